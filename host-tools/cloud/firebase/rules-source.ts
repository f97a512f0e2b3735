/**
 * Rules files are JSON with comments: Firebase's own rules examples carry `//` notes inside the rules
 * (https://firebase.google.com/docs/rules/basics), and the console and `firebase deploy` take them. Comments go;
 * strings, rule expressions included, are left exactly as written.
 */
export function withoutComments(source: string): string {
  let out = "";
  for (let i = 0; i < source.length; ) {
    const char = source[i]!;
    if (char === '"') {
      let end = i + 1;
      while (end < source.length && source[end] !== '"') end += source[end] === "\\" ? 2 : 1;
      out += source.slice(i, end + 1);
      i = end + 1;
    } else if (char === "/" && source[i + 1] === "/") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? source.length : end;
    } else if (char === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) throw new SyntaxError("a /* comment is never closed with */");
      out += " ";
      i = end + 2;
    } else {
      out += char;
      i++;
    }
  }
  return out;
}

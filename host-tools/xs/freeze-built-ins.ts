/**
 * What Moddable's linker does to every device build that preloads (xs/tools/xsl.c fxFreezeBuiltIns): freezes the
 * built-in prototypes and the Atomics, JSON, Math and Reflect objects. The laptop's XS engine does not, so the host
 * runs this before the firmware: code that only works with mutable built-ins — such as assigning `this.name` in an
 * Error subclass, which the frozen Error.prototype turns into a TypeError (the override mistake) — fails here too.
 */
export const FREEZE_BUILT_INS = `(() => {
  const freeze = Object.freeze;
  const proto = Object.getPrototypeOf;
  for (const object of [Atomics, JSON, Math, Reflect]) freeze(object);
  const constructors = [AggregateError, Array, ArrayBuffer, BigInt, Boolean, DataView, Date, Error, EvalError,
    FinalizationRegistry, Function, Map, Number, Object, Promise, RangeError, ReferenceError, RegExp, Set,
    SharedArrayBuffer, String, Symbol, SyntaxError, TypeError, URIError, WeakMap, WeakRef, WeakSet, Int8Array,
    Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
    BigInt64Array, BigUint64Array, proto(Int8Array)];
  if (typeof SuppressedError === "function") constructors.push(SuppressedError);
  for (const constructor of constructors) freeze(constructor.prototype);
  const iterators = [[][Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](), ""[Symbol.iterator](), /a/[Symbol.matchAll]("")];
  for (const iterator of iterators) freeze(proto(iterator));
  freeze(proto(proto([][Symbol.iterator]())));
  const generator = function* () {};
  const asyncGenerator = async function* () {};
  freeze(proto(generator));
  freeze(proto(generator).prototype);
  freeze(proto(asyncGenerator));
  freeze(proto(asyncGenerator).prototype);
  freeze(proto(proto(asyncGenerator.prototype)));
  freeze(proto(async function () {}));
  freeze(Array.prototype[Symbol.unscopables]);
})();`;

/**
 * When a scenario's virtual time may move: not while a byte or a close is on its way between the device and the local
 * cloud, or an HTTP request is unanswered. What is checked is only the order — the device has the answer by the time
 * it counts as quiescent — never how long anything took (the HTTP server answers late on purpose, in real time).
 */
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NodeTransport } from "../../../host-tools/platform/node-transport.ts";
import { Quiescence, StalledError } from "../../../host-tools/scenario/quiescence.ts";

const servers: net.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    (server as http.Server).closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen<T extends net.Server>(server: T): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function connect(quiescence: Quiescence, port: number) {
  const received: Uint8Array[] = [];
  let closed = false;
  const transport = new NodeTransport({ onSocket: quiescence.watchDeviceSocket });
  const connection = await transport.connect({ host: "127.0.0.1", port }, { onData: (bytes) => received.push(bytes), onClose: () => (closed = true) });
  return { connection, text: () => Buffer.concat(received).toString("utf8"), closed: () => closed };
}

describe("Quiescence", () => {
  it("is not reached while the answer is on its way to the device, and is once the device has read it", async () => {
    const server = net.createServer((socket) => socket.on("data", (bytes) => socket.write(`echo ${bytes}`)));
    const port = await listen(server);
    const quiescence = new Quiescence();
    quiescence.watchServer(server, "echo");
    const device = await connect(quiescence, port);
    await quiescence.settled();
    device.connection.write(new TextEncoder().encode("ping"));
    await quiescence.settled();
    // the server read "ping" and its echo left: the device has it before virtual time may move
    expect(device.text()).toBe("echo ping");
    device.connection.close();
    await quiescence.settled();
    expect(device.closed()).toBe(true);
  });

  it("waits for an HTTP answer the server computes late, but not for an event stream, which stays open", async () => {
    const server = http.createServer((request, response) => {
      if (request.url === "/stream") {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.write("event: put\ndata: {}\n\n");
      } else setTimeout(() => response.end("late"), 40);
    });
    const port = await listen(server);
    const quiescence = new Quiescence();
    quiescence.watchServer(server, "the database");
    const stream = await connect(quiescence, port);
    stream.connection.write(new TextEncoder().encode("GET /stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"));
    await quiescence.settled();
    expect(stream.text()).toMatch(/event: put/);
    const request = await connect(quiescence, port);
    request.connection.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
    await quiescence.settled();
    expect(request.text()).toMatch(/\r\n\r\nlate$/);
    stream.connection.close();
    request.connection.close();
    await quiescence.settled();
  });

  it("stops with an error naming the unanswered request when the server never answers", async () => {
    const server = http.createServer(() => undefined);
    const port = await listen(server);
    const quiescence = new Quiescence({ stallMs: 200 });
    quiescence.watchServer(server, "the database");
    const device = await connect(quiescence, port);
    device.connection.write(new TextEncoder().encode("GET /readings.json?ns=lab HTTP/1.1\r\nHost: x\r\n\r\n"));
    const failure = await quiescence.settled().then(() => undefined, (error: Error) => error);
    expect(failure).toBeInstanceOf(StalledError);
    expect(failure!.message).toMatch(/no progress for 0.2 s of real time, so virtual time cannot move: no answer yet to the database GET \/readings.json/);
    expect(failure!.message).toMatch(/--real-time/);
    device.connection.close();
  });

  it("waits until the device has seen a close the server made", async () => {
    const server = net.createServer((socket) => socket.on("data", () => socket.end("bye")));
    const port = await listen(server);
    const quiescence = new Quiescence();
    quiescence.watchServer(server, "the broker");
    const device = await connect(quiescence, port);
    device.connection.write(new Uint8Array(3));
    await quiescence.settled();
    expect(device.text()).toBe("bye");
    expect(device.closed()).toBe(true);
  });
});

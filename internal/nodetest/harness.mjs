// Test harness: builds and runs the Go test server (server/main.go), and small helpers that wait
// on events with deadlines. Nothing here sleeps.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));

/** Rejects with a clear message unless promise settles within ms. */
export function deadline(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the arguments of the next `event` on emitter, within ms. */
export function next(emitter, event, ms = 5000) {
  return deadline(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms, `"${event}"`);
}

/**
 * Records every occurrence of events on a socket from the moment it is created, so that an event
 * that arrives before the test asks for it is not lost.
 */
export function record(socket, events) {
  const seen = new Map(events.map((e) => [e, []]));
  const waiters = new Set();
  for (const e of events) {
    socket.on(e, (...args) => {
      seen.get(e).push(args);
      for (const w of waiters) w();
    });
  }
  return {
    all: (event) => seen.get(event),
    /** The arguments of the n-th (from 0) occurrence of event, within ms. */
    nth(event, n, ms = 5000) {
      return deadline(
        new Promise((resolve) => {
          const check = () => {
            const list = seen.get(event);
            if (list.length > n) {
              waiters.delete(check);
              resolve(list[n]);
            }
          };
          waiters.add(check);
          check();
        }),
        ms,
        `"${event}" #${n}`,
      );
    },
  };
}

/** Resolves with socket once it is connected (at once if it is), within 10 s. */
export async function connected(s) {
  if (!s.connected) await next(s, "connect", 10_000);
  return s;
}

/** emitWithAck with a 5 s ack timeout. */
export const call = (s, event, ...args) => s.timeout(5000).emitWithAck(event, ...args);

/** Builds the Go server into a temporary directory, starts it and returns its base URL. */
export async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), "pagespace-nodetest-"));
  const bin = join(dir, "server");
  await promisify(execFile)(process.env.GO ?? "go", ["build", "-o", bin, "./server"], { cwd: here });
  const child = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const port = await deadline(
    new Promise((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const nl = out.indexOf("\n");
        if (nl >= 0) resolve(Number(out.slice(0, nl)));
      });
      child.once("error", reject);
      exited.then(({ code }) => reject(new Error(`server exited early with code ${code}`)));
    }),
    10_000,
    "the server's port",
  );
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      const { code, signal } = await deadline(exited, 10_000, "the server to exit");
      await rm(dir, { recursive: true, force: true });
      if (code !== 0) throw new Error(`server exited with code ${code} (signal ${signal})`);
    },
  };
}

// Runs the real pagespace binary for end-to-end tests: built from the repository root, served
// on a free port with its own data directory and, with PAGESPACE_TEST_DB=postgres, a fresh
// PostgreSQL database (PAGESPACE_TEST_PG is the admin URL, as for the Go tests). The server can
// be restarted on the same port, directory and database. Readiness is a condition (GET /readyz)
// polled under a deadline.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { deadline } from "./harness.mjs";

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The database the tests run on: "sqlite" (default) or "postgres". */
export const dialect = process.env.PAGESPACE_TEST_DB === "postgres" ? "postgres" : "sqlite";

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function psql(adminURL, sql) {
  await run("psql", [adminURL, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql]);
}

/** Builds the binary and starts it; stop() ends it and removes everything it made. */
export async function startApp() {
  const dir = await mkdtemp(join(tmpdir(), "pagespace-e2e-"));
  const bin = join(dir, "pagespace");
  await run(process.env.GO ?? "go", ["build", "-o", bin, "."], { cwd: root });
  const port = await freePort();
  const env = {
    ...process.env,
    ADDR: `127.0.0.1:${port}`,
    DATA_DIR: join(dir, "data"),
    AUTH_RATE_LIMIT: "0",
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  let dropDB = async () => {};
  if (dialect === "postgres") {
    const admin = process.env.PAGESPACE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
    const name = `pagespace_e2e_${randomBytes(6).toString("hex")}`;
    await psql(admin, `CREATE DATABASE ${name}`);
    const u = new URL(admin);
    u.pathname = `/${name}`;
    env.DATABASE_URL = u.toString();
    dropDB = () => psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  const url = `http://127.0.0.1:${port}`;
  let child = null;
  let exited = null;

  async function up() {
    child = spawn(bin, [], { env, stdio: ["ignore", "inherit", "inherit"] });
    exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    let early = false;
    exited.then(() => (early = true));
    await deadline(
      (async () => {
        for (;;) {
          if (early) throw new Error("the server exited while starting");
          try {
            const res = await fetch(`${url}/readyz`);
            if (res.ok) return;
          } catch {
            // not listening yet
          }
          await new Promise((resolve) => setTimeout(resolve, 20)); // a poll interval, under the deadline
        }
      })(),
      30_000,
      "the server to be ready",
    );
  }

  async function down() {
    if (!child) return;
    child.kill("SIGTERM");
    const { code, signal } = await deadline(exited, 20_000, "the server to exit");
    child = null;
    if (code !== 0) throw new Error(`server exited with code ${code} (signal ${signal})`);
  }

  await up();
  return {
    url,
    /** SIGTERM (clients' transports close without DISCONNECT), then start again. */
    async restart() {
      await down();
      await up();
    },
    /** Stops the server without starting it again. */
    stopServer: down,
    async stop() {
      try {
        await down();
      } finally {
        await dropDB();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A JSON call to the REST API; throws unless the status is `expect`. */
export async function api(base, method, path, { token, body, expect } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (expect !== undefined && res.status !== expect) {
    throw new Error(`${method} ${path}: status ${res.status}, want ${expect}: ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

let users = 0;

/** Signs a new user up through the REST API: {id, name, token}. */
export async function signup(base, name) {
  const email = `${name.toLowerCase()}.${process.pid}.${Date.now()}.${users++}@example.com`;
  const body = await api(base, "POST", "/api/auth/signup", {
    body: { email, password: "correct horse", name },
    expect: 201,
  });
  return { id: body.user.id, name, token: body.accessToken };
}

/** Posts a message to a channel page as user. */
export function post(base, user, pageId, content) {
  return api(base, "POST", `/api/pages/${pageId}/messages`, { token: user.token, body: { content }, expect: 201 });
}

/** Checks a new_message listener's arguments: the payload, then the offset, equal to eventId. */
export function message(args, { content, pageId, actorId }) {
  assert.equal(args.length, 2, `listener got ${JSON.stringify(args)}`);
  const [payload, offset] = args;
  assert.equal(typeof offset, "string");
  assert.match(offset, /^\d+$/);
  assert.equal(offset, payload.eventId);
  assert.equal(payload.type, "new_message");
  assert.equal(payload.pageId, pageId);
  assert.equal(payload.actorId, actorId);
  assert.equal(payload.message.content, content);
  return BigInt(offset);
}

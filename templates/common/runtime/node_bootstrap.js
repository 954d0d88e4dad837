"use strict";
// What the managed Node.js Lambda runtime does, for deployctl's local target.
//
//     AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT LAMBDA_TASK_ROOT=DIR \
//         NODE_PATH=<the SDK v3 the runtime provides> node node_bootstrap.js FILE.FUNCTION
//
// Loads the handler once (module scope runs once per execution environment,
// as on Lambda; CommonJS by require, ES modules by import), then loops: GET
// /runtime/invocation/next, call the handler (async, or with a callback),
// POST its result to .../response or the error to .../error. A handler that
// cannot be loaded is reported to /runtime/init/error and the process exits.
const fs = require("fs");
const http = require("http");
const path = require("path");
const { pathToFileURL } = require("url");

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: Number(PORT), method, path: BASE + p, agent,
      headers: body === undefined ? headers
        : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers } },
    (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDoc(err, type) {
  const e = err instanceof Error ? err : new Error(String(err));
  return { errorType: type || e.name || "Error", errorMessage: e.message,
    stackTrace: String(e.stack || "").split("\n").slice(1).map((l) => l.trim()) };
}

// "index.handler" -> the file LAMBDA_TASK_ROOT/index(.js|.cjs|.mjs), export "handler".
async function load(spec) {
  const dot = spec.lastIndexOf(".");
  if (dot <= 0) throw new Error("bad handler '" + spec + "': expected FILE.FUNCTION");
  const base = path.resolve(process.env.LAMBDA_TASK_ROOT || process.cwd(), spec.slice(0, dot));
  const name = spec.slice(dot + 1);
  let mod;
  const mjs = [".mjs"].map((x) => base + x).find((f) => fs.existsSync(f));
  if (mjs) {
    mod = await import(pathToFileURL(mjs).href);
  } else {
    try {
      mod = require(base);
    } catch (err) {
      if (err.code !== "ERR_REQUIRE_ESM") throw err;
      mod = await import(pathToFileURL(require.resolve(base)).href);
    }
  }
  const fn = mod[name] || (mod.default && mod.default[name]);
  if (typeof fn !== "function") {
    throw new Error("handler '" + name + "' is not a function exported by " + spec.slice(0, dot));
  }
  return fn;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION || "$LATEST",
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || "128",
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// An async handler's promise, or a callback-style handler's callback.
function invoke(fn, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    try {
      const out = fn(event, ctx, callback);
      if (out && typeof out.then === "function") out.then(resolve, reject);
      else if (fn.length < 3) resolve(out);
    } catch (err) {
      reject(err);
    }
  });
}

function initFailure(err) {
  const m = /Cannot find module '(@aws-sdk\/[^']+)'/.exec(err && err.message);
  if (m) {
    err = new Error("the local Node.js runtime provides only the AWS SDK v3 clients listed in "
      + "templates/common/runtime/node/package.json, not '" + m[1] + "': add it there");
  }
  return errorDoc(err, "Runtime.ImportModuleError");
}

async function main() {
  const spec = process.argv[2] || process.env._HANDLER || "";
  let fn;
  try {
    fn = await load(spec);
  } catch (err) {
    console.error(err);
    await request("POST", "/init/error", JSON.stringify(initFailure(err)),
      { "Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError" });
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    if (next.status !== 200) process.exit(0); // the supervisor is stopping this function
    const ctx = context(next.headers);
    const id = encodeURIComponent(ctx.awsRequestId);
    try {
      const result = await invoke(fn, JSON.parse(next.body), ctx);
      await request("POST", "/invocation/" + id + "/response",
        JSON.stringify(result === undefined ? null : result));
    } catch (err) {
      console.error(err);
      await request("POST", "/invocation/" + id + "/error", JSON.stringify(errorDoc(err)),
        { "Lambda-Runtime-Function-Error-Type": "Unhandled" });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

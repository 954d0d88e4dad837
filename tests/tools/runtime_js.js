"use strict";
// A Node.js runtime for tests/tools/runtime_api.py: what Lambda's managed
// nodejs runtime does, in short. Requires $_HANDLER (file.function) from
// $LAMBDA_TASK_ROOT once, then loops on the Runtime API at
// $AWS_LAMBDA_RUNTIME_API over one kept-open connection: invocation/next,
// await the handler, post the result to /response, or the error to /error;
// a failed require goes to init/error.
//
//     NODE_PATH=tests/app/node_modules node runtime_js.js
const http = require("http");
const path = require("path");

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = "/2018-06-01/runtime/";

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: BASE + p, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function postError(p, err) {
  const type = "Runtime." + ((err && err.name) || "Error");
  const body = JSON.stringify({
    errorMessage: String((err && err.message) || err), errorType: type,
    stackTrace: String((err && err.stack) || "").split("\n"),
  });
  return call("POST", p, body, {
    "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": type,
  });
}

async function main() {
  let handler;
  try {
    const spec = process.env._HANDLER;
    const dot = spec.lastIndexOf(".");
    const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
    handler = require(path.resolve(root, spec.slice(0, dot)))[spec.slice(dot + 1)];
    if (typeof handler !== "function") throw new Error(spec + " is not a function");
  } catch (err) {
    console.error(err);
    await postError("init/error", err);
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    const deadline = Number(next.headers["lambda-runtime-deadline-ms"] || 0);
    const context = {
      awsRequestId: id,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const result = await handler(JSON.parse(next.body.toString("utf8")), context);
      await call("POST", "invocation/" + id + "/response", JSON.stringify(result),
        { "Content-Type": "application/json" });
    } catch (err) {
      console.error(err);
      await postError("invocation/" + id + "/error", err);
    }
  }
}

main().catch((err) => {
  console.error("runtime api: " + err);
  process.exit(1);
});

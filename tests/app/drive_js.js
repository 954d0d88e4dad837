"use strict";
// Runs a Node.js Lambda handler the way the runtime does, for tests/app.
//
//     NODE_PATH=tests/app/node_modules node drive_js.js APP_DIR FILE.FUNCTION
//
// The handler file is required once (module scope runs once, as in one
// execution environment). Each stdin line is a JSON list of events, invoked
// all at once (Promise.all); the matching stdout line is the JSON list of the
// results ({"error": "..."} when the handler threw).
const path = require("path");
const readline = require("readline");

const [appDir, handler] = process.argv.slice(2);
const dot = handler.lastIndexOf(".");
const fn = require(path.resolve(appDir, handler.slice(0, dot)))[handler.slice(dot + 1)];

function context() {
  const deadline = Date.now() + 10000;
  return {
    awsRequestId: require("crypto").randomUUID(),
    functionName: "test-fn",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function invokeAll(events) {
  return Promise.all(events.map(async (ev) => {
    try {
      return await fn(ev, context());
    } catch (err) {
      return { error: String(err && err.stack || err) };
    }
  }));
}

// Lines are handled one after another, in order.
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    process.stdout.write(JSON.stringify(await invokeAll(JSON.parse(line))) + "\n");
  });
});

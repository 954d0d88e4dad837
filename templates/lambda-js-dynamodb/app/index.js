"use strict";
// Hit counter behind API Gateway (HTTP API, payload 2.0), counter in DynamoDB.
// GET /hits increments and returns the count, GET /healthz says ok, GET /
// serves the page stored in S3; anything else is 404.
//
// The SDK v3 clients come from the Node.js Lambda runtime; nothing is bundled.

const { DynamoDBClient, UpdateItemCommand } = require("@aws-sdk/client-dynamodb");
const { S3Client, GetObjectCommand } = require("@aws-sdk/client-s3");

const TABLE = process.env.TABLE;
const PAGE_BUCKET = process.env.PAGE_BUCKET;
const PAGE_KEY = process.env.PAGE_KEY || "index.html";
const COUNTER_ID = "hits";

// Module scope: created once per execution environment, reused across calls.
// SDK v3 reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself; a
// custom endpoint (moto, a local target) is usually a bare host or IP where
// bucket subdomains do not resolve, hence path style there.
const ddb = new DynamoDBClient({});
const s3 = new S3Client({
  forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
});
let pagePromise = null;

function response(statusCode, body, contentType = "text/plain; charset=utf-8") {
  return { statusCode, headers: { "content-type": contentType, "cache-control": "no-store" }, body };
}

function route(event) {
  if (event.routeKey && event.routeKey !== "$default") return event.routeKey;
  const method = (event.requestContext && event.requestContext.http && event.requestContext.http.method) || "";
  return method + " " + (event.rawPath || "");
}

async function hits() {
  const out = await ddb.send(new UpdateItemCommand({
    TableName: TABLE,
    Key: { id: { S: COUNTER_ID } },
    UpdateExpression: "ADD #n :one",
    ExpressionAttributeNames: { "#n": "count" },
    ExpressionAttributeValues: { ":one": { N: "1" } },
    ReturnValues: "UPDATED_NEW",
  }));
  return out.Attributes.count.N;
}

// Cached as a promise so concurrent first requests share one read; a failed
// read is not cached.
function page() {
  if (!pagePromise) {
    pagePromise = s3.send(new GetObjectCommand({ Bucket: PAGE_BUCKET, Key: PAGE_KEY }))
      .then((out) => out.Body.transformToString("utf-8"))
      .catch((err) => { pagePromise = null; throw err; });
  }
  return pagePromise;
}

exports.handler = async (event) => {
  const r = route(event);
  try {
    if (r === "GET /hits") return response(200, await hits());
    if (r === "GET /healthz") return response(200, "ok");
    if (r === "GET /") return response(200, await page(), "text/html; charset=utf-8");
  } catch (err) {
    console.error(err);
    return response(500, "internal error");
  }
  return response(404, "not found");
};

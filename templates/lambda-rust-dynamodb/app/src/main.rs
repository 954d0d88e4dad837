//! Hit counter behind API Gateway (HTTP API, payload 2.0), counter in
//! DynamoDB, as a Lambda custom runtime (provided.al2023): this program is the
//! whole runtime, speaking the Lambda Runtime API itself.
//!
//! GET /hits increments and returns the count, GET /healthz says ok, GET /
//! serves the page stored in S3 (read once, then kept); anything else is 404.
//!
//! Written for Rust 1.63 (Debian 12's) and later.

mod sigv4;

use std::env;
use std::io::Read;
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use sigv4::{Credentials, Signer, Url};

const COUNTER_ID: &str = "hits";
const AWS_TIMEOUT_MS: u64 = 5000;
const AWS_ATTEMPTS: u32 = 3;
const MAX_BODY: u64 = 6 << 20;

/// The first CA bundle found among the places Linux distributions keep it,
/// Amazon Linux 2023's first; SSL_CERT_FILE, when set, wins.
fn choose_ca_bundle() {
    if env::var_os("SSL_CERT_FILE").is_some() {
        return;
    }
    const KNOWN: [&str; 6] = [
        "/etc/pki/tls/certs/ca-bundle.crt",   // Amazon Linux, Fedora, RHEL
        "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
        "/etc/ssl/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/ca-bundle.pem", // openSUSE
        "/etc/ssl/cert.pem",
    ];
    if let Some(path) = KNOWN.iter().find(|p| Path::new(p).exists()) {
        // Read by the TLS stack when the agent is built, once, at init.
        env::set_var("SSL_CERT_FILE", path);
    }
}

fn env_or(name: &str, fallback: &str) -> String {
    match env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => fallback.to_string(),
    }
}

fn env_required(name: &str) -> Result<String, String> {
    match env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("{} is not set", name)),
    }
}

/// AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, without a final '/'.
fn endpoint_override(service: &str) -> Option<String> {
    let names = [format!("AWS_ENDPOINT_URL_{}", service), "AWS_ENDPOINT_URL".to_string()];
    names.iter().find_map(|n| match env::var(n) {
        Ok(v) if !v.is_empty() => Some(v.trim_end_matches('/').to_string()),
        _ => None,
    })
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn response(status: u16, body: &str, content_type: &str) -> String {
    json!({
        "statusCode": status,
        "headers": {"content-type": content_type, "cache-control": "no-store"},
        "body": body,
    })
    .to_string()
}

const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

struct Answer {
    status: u16,
    body: String,
}

/// A short description of an AWS error answer: status, code and message.
fn describe(a: &Answer) -> String {
    let mut what = format!("HTTP {}", a.status);
    if let Ok(v) = serde_json::from_str::<Value>(&a.body) {
        let code = v["__type"].as_str().unwrap_or("");
        let code = code.rsplit('#').next().unwrap_or(code);
        let msg = v["message"].as_str().or_else(|| v["Message"].as_str()).unwrap_or("");
        what += &format!(" {}: {}", code, msg);
    } else if let (Some(a0), Some(a1)) = (a.body.find("<Code>"), a.body.find("</Code>")) {
        if a0 + 6 <= a1 {
            what += &format!(" {}", &a.body[a0 + 6..a1]);
        }
    }
    what
}

fn retryable(a: &Answer) -> bool {
    a.status >= 500
        || a.body.contains("ThrottlingException")
        || a.body.contains("ProvisionedThroughputExceeded")
}

/// The whole answer, read up to its Content-Length: ureq 2.6 would wait for
/// the server to close a "Connection: close" answer even past its length.
fn read_body(resp: ureq::Response) -> Result<String, String> {
    let len = resp.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    let mut body = String::new();
    resp.into_reader()
        .take(len.unwrap_or(MAX_BODY).min(MAX_BODY))
        .read_to_string(&mut body)
        .map_err(|e| format!("reading the answer: {}", e))?;
    Ok(body)
}

struct App {
    table: String,
    page_bucket: String,
    page_key: String,
    ddb_sign: Signer,
    s3_sign: Signer,
    ddb_url: Url,
    page_url: Url,
    update_body: String,
    agent: ureq::Agent, // keeps HTTP and TLS connections open between calls
    page: Option<String>,
}

enum Failure {
    BadEvent(String),
}

impl App {
    fn new() -> Result<App, String> {
        let region = env_or("AWS_REGION", &env_or("AWS_DEFAULT_REGION", "us-east-1"));
        let table = env_required("TABLE")?;
        let page_bucket = env_required("PAGE_BUCKET")?;
        let page_key = env_or("PAGE_KEY", "index.html");
        let creds = Credentials::from_env()?;
        let ddb_url = Url::parse(&match endpoint_override("DYNAMODB") {
            Some(e) => format!("{}/", e),
            None => format!("https://dynamodb.{}.amazonaws.com/", region),
        })?;
        // A custom endpoint (moto, a local target) is usually a bare host
        // where bucket subdomains do not resolve: path style there.
        let key = sigv4::uri_encode(&page_key, true);
        let page_url = Url::parse(&match endpoint_override("S3") {
            Some(e) => format!("{}/{}/{}", e, page_bucket, key),
            None => format!("https://{}.s3.{}.amazonaws.com/{}", page_bucket, region, key),
        })?;
        let update_body = json!({
            "TableName": table,
            "Key": {"id": {"S": COUNTER_ID}},
            "UpdateExpression": "ADD #n :one",
            "ExpressionAttributeNames": {"#n": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
            "ReturnValues": "UPDATED_NEW",
        })
        .to_string();
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_millis(3000))
            .build();
        Ok(App {
            ddb_sign: Signer::new(creds.clone(), &region, "dynamodb", false),
            s3_sign: Signer::new(creds, &region, "s3", true),
            table,
            page_bucket,
            page_key,
            ddb_url,
            page_url,
            update_body,
            agent,
            page: None,
        })
    }

    fn handle(&mut self, payload: &[u8], deadline_ms: u64) -> Result<String, Failure> {
        let event: Value = serde_json::from_slice(payload)
            .map_err(|e| Failure::BadEvent(format!("event is not JSON: {}", e)))?;
        if !event.is_object() {
            return Err(Failure::BadEvent("event is not a JSON object".to_string()));
        }
        let r = route(&event);
        let answer = match r.as_str() {
            "GET /hits" => self.hits(deadline_ms).map(|n| response(200, &n, TEXT)),
            "GET /healthz" => Ok(response(200, "ok", TEXT)),
            "GET /" => self.page(deadline_ms).map(|p| response(200, &p, HTML)),
            _ => Ok(response(404, "not found", TEXT)),
        };
        Ok(answer.unwrap_or_else(|e| {
            eprintln!("{}: {}", r, e);
            response(500, "internal error", TEXT)
        }))
    }

    fn hits(&mut self, deadline_ms: u64) -> Result<String, String> {
        let headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.UpdateItem"),
        ];
        let body = self.update_body.clone();
        let a = call(&self.agent, &mut self.ddb_sign, &self.ddb_url, "POST", &headers, &body,
                     deadline_ms)?;
        if a.status != 200 {
            return Err(format!("dynamodb UpdateItem on '{}': {}", self.table, describe(&a)));
        }
        let v: Value = serde_json::from_str(&a.body).map_err(|e| e.to_string())?;
        match v["Attributes"]["count"]["N"].as_str() {
            Some(n) => Ok(n.to_string()),
            None => Err("dynamodb UpdateItem answered without the count".to_string()),
        }
    }

    fn page(&mut self, deadline_ms: u64) -> Result<String, String> {
        if let Some(p) = &self.page {
            return Ok(p.clone());
        }
        let a = call(&self.agent, &mut self.s3_sign, &self.page_url, "GET", &[], "", deadline_ms)?;
        if a.status != 200 {
            return Err(format!("s3 GetObject '{}/{}': {}", self.page_bucket, self.page_key,
                               describe(&a)));
        }
        self.page = Some(a.body.clone());
        Ok(a.body)
    }
}

fn route(event: &Value) -> String {
    match event["routeKey"].as_str() {
        Some(k) if !k.is_empty() && k != "$default" => k.to_string(),
        _ => format!(
            "{} {}",
            event["requestContext"]["http"]["method"].as_str().unwrap_or(""),
            event["rawPath"].as_str().unwrap_or("")
        ),
    }
}

fn timeout(deadline_ms: u64) -> Duration {
    let left = if deadline_ms > 0 {
        deadline_ms.saturating_sub(now_ms()).saturating_sub(200)
    } else {
        AWS_TIMEOUT_MS
    };
    Duration::from_millis(left.clamp(100, AWS_TIMEOUT_MS))
}

fn send(agent: &ureq::Agent, url: &Url, method: &str, headers: &[(String, String)], body: &str,
        deadline_ms: u64) -> Result<Answer, String> {
    let mut req = agent.request(method, &url.to_string()).timeout(timeout(deadline_ms));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = if method == "GET" { req.call() } else { req.send_string(body) };
    match result {
        Ok(resp) => Ok(Answer { status: resp.status(), body: read_body(resp)? }),
        Err(ureq::Error::Status(status, resp)) => Ok(Answer { status, body: read_body(resp)? }),
        Err(e) => Err(format!("{} {}: {}", method, url.authority, e)),
    }
}

fn call(agent: &ureq::Agent, signer: &mut Signer, url: &Url, method: &str,
        headers: &[(&str, &str)], body: &str, deadline_ms: u64) -> Result<Answer, String> {
    let mut attempt = 1;
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let signed = signer.sign(method, url, headers, body.as_bytes(), now);
        match send(agent, url, method, &signed, body, deadline_ms) {
            Ok(a) if a.status < 300 || !retryable(&a) || attempt == AWS_ATTEMPTS => return Ok(a),
            Err(e) if attempt == AWS_ATTEMPTS => return Err(e),
            _ => {}
        }
        sleep(Duration::from_millis(25 << attempt));
        attempt += 1;
    }
}

/// The Lambda Runtime API (2018-06-01) on its own kept-open connection.
struct Runtime {
    base: String,
    agent: ureq::Agent,
}

struct Invocation {
    id: String,
    event: Vec<u8>,
    deadline_ms: u64,
}

impl Runtime {
    fn new(api: &str) -> Runtime {
        Runtime {
            base: format!("http://{}/2018-06-01/runtime/", api),
            // No read timeout: invocation/next is a long poll.
            agent: ureq::AgentBuilder::new().build(),
        }
    }

    fn next(&self) -> Result<Invocation, String> {
        let mut attempt = 1;
        loop {
            match self.agent.get(&format!("{}invocation/next", self.base)).call() {
                Ok(resp) => {
                    let id = resp.header("Lambda-Runtime-Aws-Request-Id").unwrap_or("").to_string();
                    let deadline_ms = resp
                        .header("Lambda-Runtime-Deadline-Ms")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut event = Vec::new();
                    resp.into_reader()
                        .take(MAX_BODY)
                        .read_to_end(&mut event)
                        .map_err(|e| e.to_string())?;
                    return Ok(Invocation { id, event, deadline_ms });
                }
                Err(ureq::Error::Status(code, _)) => {
                    eprintln!("runtime api: invocation/next answered {}", code)
                }
                Err(e) if attempt >= 3 => return Err(e.to_string()),
                Err(e) => eprintln!("runtime api: {}", e),
            }
            attempt += 1;
            sleep(Duration::from_millis(100));
        }
    }

    fn post(&self, path: &str, body: &str, error_type: Option<&str>) {
        let mut req = self
            .agent
            .post(&format!("{}{}", self.base, path))
            .set("Content-Type", "application/json")
            .timeout(Duration::from_secs(10));
        if let Some(t) = error_type {
            req = req.set("Lambda-Runtime-Function-Error-Type", t);
        }
        match req.send_string(body) {
            Ok(_) => {}
            // The answer was lost; Lambda times the invocation out.
            Err(e) => eprintln!("runtime api: {}: {}", path, e),
        }
    }

    fn error(&self, path: &str, error_type: &str, message: &str) {
        let body = json!({"errorMessage": message, "errorType": error_type, "stackTrace": []});
        self.post(path, &body.to_string(), Some(error_type));
    }
}

fn main() {
    let api = match env::var("AWS_LAMBDA_RUNTIME_API") {
        Ok(v) if !v.is_empty() => v,
        _ => {
            eprintln!("AWS_LAMBDA_RUNTIME_API is not set: run me as a Lambda custom runtime");
            std::process::exit(2);
        }
    };
    choose_ca_bundle();
    let runtime = Runtime::new(&api);
    let mut app = match App::new() {
        Ok(app) => app,
        Err(e) => {
            eprintln!("init: {}", e);
            runtime.error("init/error", "Runtime.InitError", &e);
            std::process::exit(1);
        }
    };
    loop {
        let inv = match runtime.next() {
            Ok(inv) => inv,
            Err(e) => {
                eprintln!("runtime api unreachable: {}", e);
                std::process::exit(1);
            }
        };
        match app.handle(&inv.event, inv.deadline_ms) {
            Ok(body) => runtime.post(&format!("invocation/{}/response", inv.id), &body, None),
            Err(Failure::BadEvent(msg)) => {
                eprintln!("{}", msg);
                runtime.error(&format!("invocation/{}/error", inv.id), "Runtime.BadEvent", &msg);
            }
        }
    }
}

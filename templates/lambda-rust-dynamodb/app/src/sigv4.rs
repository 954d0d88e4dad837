//! AWS Signature Version 4 with the function's own credentials (the session
//! token included), and the URL parts it signs.

use std::collections::BTreeMap;
use std::env;
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Credentials {
    key_id: String,
    secret: String,
    token: String,
}

impl Credentials {
    pub fn from_env() -> Result<Credentials, String> {
        let get = |n: &str| env::var(n).unwrap_or_default();
        let c = Credentials {
            key_id: get("AWS_ACCESS_KEY_ID"),
            secret: get("AWS_SECRET_ACCESS_KEY"),
            token: get("AWS_SESSION_TOKEN"),
        };
        if c.key_id.is_empty() || c.secret.is_empty() {
            return Err("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set".to_string());
        }
        Ok(c)
    }
}

pub struct Url {
    pub scheme: String,
    pub authority: String, // host[:port], the default port dropped
    pub path: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Url, String> {
        let sep = url.find("://").ok_or_else(|| format!("not a URL: '{}'", url))?;
        let scheme = url[..sep].to_ascii_lowercase();
        let rest = &url[sep + 3..];
        let (mut authority, path) = match rest.find('/') {
            Some(i) => (rest[..i].to_ascii_lowercase(), rest[i..].to_string()),
            None => (rest.to_ascii_lowercase(), "/".to_string()),
        };
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        if authority.len() > default_port.len() && authority.ends_with(default_port) {
            authority.truncate(authority.len() - default_port.len());
        }
        Ok(Url { scheme, authority, path })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.path)
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters (and
/// '/' when keep_slash).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{:02X}", b));
        }
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// "YYYYMMDDTHHMMSSZ" for a Unix time.
pub fn amz_date(unix: u64) -> String {
    let secs = unix as i64;
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", y, m, d, t / 3600, t / 60 % 60, t % 60)
}

/// A header value as SigV4 signs it: outer space trimmed, inner runs of
/// space collapsed.
fn trim_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub struct Signer {
    creds: Credentials,
    region: String,
    service: String,
    s3: bool,
    key_date: String, // the day the cached signing key is for
    key: Vec<u8>,
}

impl Signer {
    pub fn new(creds: Credentials, region: &str, service: &str, s3: bool) -> Signer {
        Signer {
            creds,
            region: region.to_string(),
            service: service.to_string(),
            s3,
            key_date: String::new(),
            key: Vec::new(),
        }
    }

    /// Derived once a day, not once a request.
    fn key_for(&mut self, date: &str) -> &[u8] {
        if self.key_date != date {
            let k = hmac(format!("AWS4{}", self.creds.secret).as_bytes(), date);
            let k = hmac(&k, &self.region);
            let k = hmac(&k, &self.service);
            self.key = hmac(&k, "aws4_request");
            self.key_date = date.to_string();
        }
        &self.key
    }

    /// The headers to send (Host excepted, which the HTTP client derives
    /// from the URL) for a request whose other signed headers are `headers`.
    pub fn sign(&mut self, method: &str, url: &Url, headers: &[(&str, &str)], body: &[u8],
                now: u64) -> Vec<(String, String)> {
        let stamp = amz_date(now);
        let date = stamp[..8].to_string();
        let payload = sha256_hex(body);
        let mut out: Vec<(String, String)> =
            headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        out.push(("X-Amz-Date".to_string(), stamp.clone()));
        if !self.creds.token.is_empty() {
            out.push(("X-Amz-Security-Token".to_string(), self.creds.token.clone()));
        }
        if self.s3 {
            out.push(("X-Amz-Content-SHA256".to_string(), payload.clone()));
        }
        let mut canon = BTreeMap::new();
        canon.insert("host".to_string(), url.authority.clone());
        for (k, v) in &out {
            canon.insert(k.to_ascii_lowercase(), trim_value(v));
        }
        let names = canon.keys().cloned().collect::<Vec<_>>().join(";");
        let lines: String = canon.iter().map(|(k, v)| format!("{}:{}\n", k, v)).collect();
        // S3 paths are signed as sent; other services encode them once more.
        let path = if self.s3 { url.path.clone() } else { uri_encode(&url.path, true) };
        let request = format!("{}\n{}\n\n{}\n{}\n{}", method, path, lines, names, payload);
        let scope = format!("{}/{}/{}/aws4_request", date, self.region, self.service);
        let to_sign = format!("AWS4-HMAC-SHA256\n{}\n{}\n{}", stamp, scope,
                              sha256_hex(request.as_bytes()));
        let key_id = self.creds.key_id.clone();
        let signature = hex::encode(hmac(self.key_for(&date), &to_sign));
        out.push((
            "Authorization".to_string(),
            format!("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}", key_id,
                    scope, names, signature),
        ));
        out
    }
}

//! The plain-HTTP site. It never serves the app: it offers the CA certificate and a page that
//! explains how to trust it, and redirects everything else to HTTPS.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;

const CSS: &str = include_str!("onboarding.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/onboarding", get(page))
        .route("/onboarding.css", get(css))
        .route("/ca.pem", get(ca_pem))
        .route("/ca.der", get(ca_der))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(redirect_to_https)
}

pub async fn ca_pem(State(s): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"outpost-ca.pem\""),
            ),
        ],
        s.pki.ca_pem.clone(),
    )
        .into_response()
}

pub async fn ca_der(State(s): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-x509-ca-cert"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"outpost-ca.crt\""),
            ),
        ],
        s.pki.ca_der.clone(),
    )
        .into_response()
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// The host the client used, without its port, if it is a plausible name or address.
fn request_host(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::HOST)?.to_str().ok()?;
    let host = if let Some(rest) = raw.strip_prefix('[') {
        format!("[{}]", rest.split(']').next()?)
    } else {
        raw.split(':').next()?.to_string()
    };
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    ok.then_some(host)
}

fn https_base(s: &AppState, headers: &HeaderMap) -> String {
    let host = request_host(headers).unwrap_or_else(|| format!("{}.local", crate::pki::hostname()));
    if s.https_port == 443 {
        format!("https://{host}")
    } else {
        format!("https://{host}:{}", s.https_port)
    }
}

async fn redirect_to_https(State(s): State<AppState>, req: Request) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!("{}{path}", https_base(&s, req.headers()));
    match HeaderValue::from_str(&target) {
        Ok(v) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

async fn page(State(s): State<AppState>, headers: HeaderMap) -> Html<String> {
    let site = escape(&s.config.site_name);
    let url = escape(&https_base(&s, &headers));
    let fp = escape(&s.pki.fingerprint());
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect to {site}</title>
<link rel="stylesheet" href="/onboarding.css">
</head>
<body>
<main class="card">
<h1>Connect to {site}</h1>
<p>{site} runs on this network only. Your device must trust its certificate authority once;
after that the secure address opens without warnings and calls work.</p>
<ol class="steps">
<li><a class="button" href="/ca.pem" download>Download the certificate</a>
 (<a href="/ca.der" download>DER format</a> for Windows and Android)</li>
<li>Check that the fingerprint your device shows is exactly:
<code class="fingerprint">{fp}</code></li>
<li>Install it for your system (below), then open
<a href="{url}/">{url}/</a></li>
</ol>
<section>
<h2>Windows</h2>
<p>Open the downloaded <code>outpost-ca.crt</code>, choose <em>Install Certificate</em>,
<em>Local Machine</em>, <em>Place all certificates in the following store</em>,
<em>Trusted Root Certification Authorities</em>. Restart the browser.</p>
<h2>macOS</h2>
<p>Open <code>outpost-ca.pem</code>; Keychain Access adds it to <em>login</em>. Double-click it,
open <em>Trust</em>, set <em>When using this certificate</em> to <em>Always Trust</em>.</p>
<h2>Linux</h2>
<p>Debian and Ubuntu: <code>sudo cp outpost-ca.pem /usr/local/share/ca-certificates/outpost-ca.crt
&amp;&amp; sudo update-ca-certificates</code>. Fedora and RHEL: copy it to
<code>/etc/pki/ca-trust/source/anchors/</code> and run <code>sudo update-ca-trust</code>.
Firefox and Chromium keep their own lists: import it under <em>Settings → Certificates →
Authorities</em>.</p>
<h2>Android</h2>
<p>Open <em>Settings → Security → Encryption &amp; credentials → Install a certificate →
CA certificate</em> and pick the downloaded file.</p>
<h2>iPhone and iPad</h2>
<p>Open this page in Safari and download the certificate; then <em>Settings → General → VPN &amp;
Device Management</em> to install the profile, and <em>Settings → General → About →
Certificate Trust Settings</em> to switch on full trust.</p>
</section>
<p class="note">This certificate authority can only vouch for names and addresses on local
networks (such as <code>.local</code>, <code>.lan</code> and private IP ranges); it cannot
impersonate any public website.</p>
</main>
</body>
</html>
"#
    ))
}

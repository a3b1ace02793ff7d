//! The plain-HTTP site. It never serves the app: it offers the CA certificate and a page that
//! explains how to trust it, and redirects everything else to HTTPS.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;

const CSS: &str = include_str!("onboarding.css");
/// Waits until the browser trusts the CA (a request to the HTTPS origin succeeds), then moves on
/// to sign-in. Served as a file: the page has no inline script.
const PROBE_JS: &str = include_str!("onboarding.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/onboarding", get(page))
        .route("/onboarding.css", get(css))
        .route("/onboarding.js", get(probe_js))
        .route("/onboarding/qr-url.svg", get(qr_url))
        .route("/onboarding/qr-ca.svg", get(qr_ca))
        .route("/outpost-ca.mobileconfig", get(mobileconfig))
        .route("/install-ca.sh", get(install_script_handler))
        .route("/ca.pem", get(ca_pem))
        .route("/ca.der", get(ca_der))
        .route("/healthz", get(|| async { "ok" }))
        // Browsers ask for it by themselves; a redirect to HTTPS would break the page's policy.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
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

async fn probe_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        PROBE_JS,
    )
        .into_response()
}

/// A QR code as an SVG document (black modules on white, with the standard quiet zone).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

fn svg_response(svg: Option<String>) -> Response {
    match svg {
        Some(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            svg,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The HTTPS address, for phones to scan.
async fn qr_url(State(s): State<AppState>, headers: HeaderMap) -> Response {
    svg_response(qr_svg(&format!("{}/", https_base(&s, &headers))))
}

/// The CA fingerprint, to compare on a second device.
async fn qr_ca(State(s): State<AppState>) -> Response {
    svg_response(qr_svg(&format!("SHA256:{}", s.pki.fingerprint())))
}

/// An Apple configuration profile carrying the CA (iOS, iPadOS, macOS).
pub fn mobileconfig_xml(site: &str, ca_der: &[u8], fingerprint: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(ca_der);
    // Stable identifiers derived from the certificate, so reinstalling replaces the profile.
    let hex: String = fingerprint.replace(':', "").to_ascii_lowercase();
    let uuid = |salt: &str| {
        use sha2::Digest;
        let h = sha2::Sha256::digest(format!("{salt}{hex}").as_bytes());
        let x: String = h.iter().take(16).map(|b| format!("{b:02X}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &x[0..8],
            &x[8..12],
            &x[12..16],
            &x[16..20],
            &x[20..32]
        )
    };
    let site = escape(site);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadCertificateFileName</key>
      <string>outpost-ca.cer</string>
      <key>PayloadContent</key>
      <data>{b64}</data>
      <key>PayloadDescription</key>
      <string>Trusts the certificate authority of {site}</string>
      <key>PayloadDisplayName</key>
      <string>{site} certificate authority</string>
      <key>PayloadIdentifier</key>
      <string>local.outpost.ca.{hex16}</string>
      <key>PayloadType</key>
      <string>com.apple.security.root</string>
      <key>PayloadUUID</key>
      <string>{cert_uuid}</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
    </dict>
  </array>
  <key>PayloadDescription</key>
  <string>Lets this device open {site} securely. Fingerprint (SHA-256): {fingerprint}</string>
  <key>PayloadDisplayName</key>
  <string>{site}</string>
  <key>PayloadIdentifier</key>
  <string>local.outpost.profile.{hex16}</string>
  <key>PayloadRemovalDisallowed</key>
  <false/>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>{profile_uuid}</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
"#,
        hex16 = &hex[..16.min(hex.len())],
        cert_uuid = uuid("cert"),
        profile_uuid = uuid("profile"),
    )
}

async fn mobileconfig(State(s): State<AppState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-apple-aspen-config"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"outpost-ca.mobileconfig\""),
            ),
        ],
        mobileconfig_xml(&s.config.site_name, &s.pki.ca_der, &s.pki.fingerprint()),
    )
        .into_response()
}

/// A shell script that installs the CA on Debian/Ubuntu or Fedora/RHEL after checking that its
/// fingerprint is the one the person was given.
pub fn install_script(ca_pem: &str) -> String {
    format!(
        r#"#!/bin/sh
# Installs the Outpost certificate authority after checking its fingerprint.
# Usage: sudo sh install-ca.sh FINGERPRINT   (the SHA-256 fingerprint your administrator gave you)
set -eu
want=$(printf '%s' "${{1:?give the expected SHA-256 fingerprint as the first argument}}" | tr -d ': ' | tr 'a-f' 'A-F')
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cat > "$tmp" <<'CERT'
{ca_pem}CERT
have=$(openssl x509 -in "$tmp" -noout -fingerprint -sha256 | sed 's/.*=//' | tr -d ':')
if [ "$have" != "$want" ]; then
  echo "Fingerprint mismatch: this certificate is $have, expected $want. Nothing was installed." >&2
  exit 1
fi
if [ -d /usr/local/share/ca-certificates ]; then
  cp "$tmp" /usr/local/share/ca-certificates/outpost-ca.crt
  update-ca-certificates
elif [ -d /etc/pki/ca-trust/source/anchors ]; then
  cp "$tmp" /etc/pki/ca-trust/source/anchors/outpost-ca.pem
  update-ca-trust
else
  echo "Unknown system: install $tmp into your trust store by hand." >&2
  exit 1
fi
echo "Installed. Firefox and Chromium may keep their own list: import outpost-ca.pem there too."
"#
    )
}

async fn install_script_handler(State(s): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/x-shellscript; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"install-ca.sh\"",
            ),
        ],
        install_script(&s.pki.ca_pem),
    )
        .into_response()
}

/// The PowerShell line for Windows: download the DER file, compare its hash, import it.
pub fn powershell_line(http_base: &str, fingerprint: &str) -> String {
    let want = fingerprint.replace(':', "");
    format!(
        "$f=\"$env:TEMP\\outpost-ca.cer\"; Invoke-WebRequest -UseBasicParsing {http_base}/ca.der -OutFile $f; \
if ((Get-FileHash -Algorithm SHA256 $f).Hash -eq '{want}') {{ Import-Certificate -FilePath $f -CertStoreLocation Cert:\\LocalMachine\\Root }} \
else {{ Write-Error 'Fingerprint mismatch: nothing was installed.' }}"
    )
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

/// The page's words in one language (HTML, trusted: written here).
struct Texts {
    lang: &'static str,
    connect: &'static str,
    intro: &'static str,
    ok: &'static str,
    waiting: &'static str,
    checking: &'static str,
    qr_url_alt: &'static str,
    on_phone: &'static str,
    qr_fp_alt: &'static str,
    fingerprint: &'static str,
    download: &'static str,
    also_as: &'static str,
    der_for: &'static str,
    profile_apple: &'static str,
    check_fp: &'static str,
    install_then: &'static str,
    moves_on: &'static str,
    windows: &'static str,
    macos: &'static str,
    linux: &'static str,
    browsers: &'static str,
    android: &'static str,
    ios: &'static str,
    ios_text: &'static str,
    note: &'static str,
}

const EN: Texts = Texts {
    lang: "en",
    connect: "Connect to",
    intro: "{site} runs on this network only. Your device must trust its certificate authority \
            once; after that the secure address opens without warnings and calls work.",
    ok: "This device trusts the server. Opening sign-in…",
    waiting: "Not trusted yet: install the certificate below. This page checks again every few \
              seconds.",
    checking: "Checking whether this device already trusts {site}…",
    qr_url_alt: "QR code of",
    on_phone: "Open on a phone",
    qr_fp_alt: "QR code of the fingerprint",
    fingerprint: "Fingerprint",
    download: "Download the certificate",
    also_as: "also as",
    der_for: "(Windows, Android) or a",
    profile_apple: "profile for iPhone, iPad and Mac",
    check_fp: "Check that the fingerprint your device shows is exactly:",
    install_then: "Install it for your system (below), then open",
    moves_on: "this page moves on by itself once it works.",
    windows: "Open the downloaded <code>outpost-ca.crt</code>, choose <em>Install \
              Certificate</em>, <em>Local Machine</em>, <em>Place all certificates in the \
              following store</em>, <em>Trusted Root Certification Authorities</em>. Restart the \
              browser. Or, in PowerShell as administrator (it checks the fingerprint first):",
    macos: "Download the <a href=\"/outpost-ca.mobileconfig\" download>profile</a>, open \
            <em>System Settings → Privacy &amp; Security → Profiles</em> and install it; or open \
            <code>outpost-ca.pem</code> in Keychain Access, then under <em>Trust</em> set \
            <em>When using this certificate</em> to <em>Always Trust</em>.",
    linux: "This script checks the fingerprint, then installs the certificate (Debian, Ubuntu, \
            Fedora, RHEL):",
    browsers: "Firefox and Chromium keep their own lists: import <code>outpost-ca.pem</code> \
               under <em>Settings → Certificates → Authorities</em>.",
    android: "Open <em>Settings → Security → Encryption &amp; credentials → Install a \
              certificate → CA certificate</em> and pick the downloaded DER file.",
    ios: "iPhone and iPad",
    ios_text: "Open this page in Safari and download the <a href=\"/outpost-ca.mobileconfig\" \
               download>profile</a>; then <em>Settings → General → VPN &amp; Device \
               Management</em> to install it, and <em>Settings → General → About → Certificate \
               Trust Settings</em> to switch on full trust.",
    note: "This certificate authority can only vouch for names and addresses on local networks \
           (such as <code>.local</code>, <code>.lan</code> and private IP ranges); it cannot \
           impersonate any public website.",
};

const RU: Texts = Texts {
    lang: "ru",
    connect: "Подключение к",
    intro: "{site} работает только в этой сети. Устройство должно один раз довериться его \
            центру сертификации; после этого защищённый адрес открывается без предупреждений и \
            звонки работают.",
    ok: "Устройство доверяет серверу. Открываем вход…",
    waiting: "Пока нет доверия: установите сертификат ниже. Страница проверяет снова каждые \
              несколько секунд.",
    checking: "Проверяем, доверяет ли это устройство {site}…",
    qr_url_alt: "QR-код адреса",
    on_phone: "Открыть на телефоне",
    qr_fp_alt: "QR-код отпечатка",
    fingerprint: "Отпечаток",
    download: "Скачать сертификат",
    also_as: "также в формате",
    der_for: "(Windows, Android) или",
    profile_apple: "профиль для iPhone, iPad и Mac",
    check_fp: "Проверьте, что устройство показывает в точности этот отпечаток:",
    install_then: "Установите сертификат для вашей системы (ниже), затем откройте",
    moves_on: "эта страница перейдёт дальше сама, как только всё заработает.",
    windows: "Откройте скачанный <code>outpost-ca.crt</code>, выберите <em>Установить \
              сертификат</em>, <em>Локальный компьютер</em>, <em>Поместить все сертификаты в \
              следующее хранилище</em>, <em>Доверенные корневые центры сертификации</em>. \
              Перезапустите браузер. Или в PowerShell от имени администратора (команда сначала \
              проверит отпечаток):",
    macos: "Скачайте <a href=\"/outpost-ca.mobileconfig\" download>профиль</a>, откройте \
            <em>Системные настройки → Конфиденциальность и безопасность → Профили</em> и \
            установите его; или откройте <code>outpost-ca.pem</code> в «Связке ключей» и в \
            разделе <em>Доверие</em> выберите <em>Всегда доверять</em>.",
    linux: "Этот скрипт проверяет отпечаток и устанавливает сертификат (Debian, Ubuntu, Fedora, \
            RHEL):",
    browsers: "Firefox и Chromium ведут собственные списки: импортируйте \
               <code>outpost-ca.pem</code> в <em>Настройки → Сертификаты → Центры \
               сертификации</em>.",
    android: "Откройте <em>Настройки → Безопасность → Шифрование и учётные данные → Установить \
              сертификат → Сертификат ЦС</em> и выберите скачанный файл DER.",
    ios: "iPhone и iPad",
    ios_text: "Откройте эту страницу в Safari и скачайте <a href=\"/outpost-ca.mobileconfig\" \
               download>профиль</a>; затем <em>Настройки → Основные → VPN и управление \
               устройством</em>, чтобы установить его, и <em>Настройки → Основные → Об этом \
               устройстве → Доверие сертификатам</em>, чтобы включить полное доверие.",
    note: "Этот центр сертификации может подтверждать только имена и адреса локальных сетей \
           (например, <code>.local</code>, <code>.lan</code> и частные диапазоны IP); выдать \
           себя за публичный сайт он не может.",
};

/// Whether the browser asks for Russian before English (`Accept-Language`, by q-value).
pub(super) fn prefers_russian(headers: &HeaderMap) -> bool {
    let Some(raw) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut best: Option<(f32, bool)> = None;
    for part in raw.split(',') {
        let mut it = part.trim().split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = tag.split('-').next().unwrap_or("");
        if (lang == "ru" || lang == "en") && q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang == "ru"));
        }
    }
    best.is_some_and(|(_, ru)| ru)
}

async fn page(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let site = escape(&s.config.site_name);
    let https = https_base(&s, &headers);
    let url = escape(&https);
    let fp = escape(&s.pki.fingerprint());
    let http_host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| request_host(&headers).is_some() && h.len() <= 260)
        .unwrap_or("localhost");
    let http_base = format!("http://{http_host}");
    let linux = escape(&format!(
        "curl -fsSO {http_base}/install-ca.sh && sudo sh install-ca.sh {}",
        s.pki.fingerprint()
    ));
    let windows = escape(&powershell_line(&http_base, &s.pki.fingerprint()));
    let t = if prefers_russian(&headers) { &RU } else { &EN };
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{connect} {site}</title>
<link rel="stylesheet" href="/onboarding.css">
<script src="/onboarding.js" defer></script>
</head>
<body data-https="{url}">
<main class="card">
<h1>{connect} {site}</h1>
<p>{intro}</p>
<p class="status" id="status" role="status" data-ok="{ok}" data-waiting="{waiting}">{checking}</p>
<div class="qr">
<figure><img src="/onboarding/qr-url.svg" width="160" height="160" alt="{qr_url_alt} {url}/"><figcaption>{on_phone}</figcaption></figure>
<figure><img src="/onboarding/qr-ca.svg" width="160" height="160" alt="{qr_fp_alt}"><figcaption>{fingerprint}</figcaption></figure>
</div>
<ol class="steps">
<li><a class="button" href="/ca.pem" download>{download}</a>
 — {also_as} <a href="/ca.der" download>DER</a> {der_for} <a href="/outpost-ca.mobileconfig" download>{profile_apple}</a></li>
<li>{check_fp}
<code class="fingerprint">{fp}</code></li>
<li>{install_then} <a href="{url}/">{url}/</a> — {moves_on}</li>
</ol>
<section>
<h2>Windows</h2>
<p>{windows_text}</p>
<pre><code>{windows}</code></pre>
<h2>macOS</h2>
<p>{macos_text}</p>
<h2>Linux</h2>
<p>{linux_text}</p>
<pre><code>{linux}</code></pre>
<p>{browsers_text}</p>
<h2>Android</h2>
<p>{android_text}</p>
<h2>{ios}</h2>
<p>{ios_text}</p>
</section>
<p class="note">{note}</p>
</main>
</body>
</html>
"#,
        lang = t.lang,
        connect = t.connect,
        intro = t.intro.replace("{site}", &site),
        ok = t.ok,
        waiting = t.waiting,
        checking = t.checking.replace("{site}", &site),
        qr_url_alt = t.qr_url_alt,
        on_phone = t.on_phone,
        qr_fp_alt = t.qr_fp_alt,
        fingerprint = t.fingerprint,
        download = t.download,
        also_as = t.also_as,
        der_for = t.der_for,
        profile_apple = t.profile_apple,
        check_fp = t.check_fp,
        install_then = t.install_then,
        moves_on = t.moves_on,
        windows_text = t.windows,
        macos_text = t.macos,
        linux_text = t.linux,
        browsers_text = t.browsers,
        android_text = t.android,
        ios = t.ios,
        ios_text = t.ios_text,
        note = t.note,
    );
    // The page may reach out to this server's own HTTPS origin, to notice when it is trusted.
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' {}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        https
    );
    let mut resp = Html(html).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> String {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let w = code.width();
        let colors = code.to_colors();
        let scale = 4;
        let quiet = 4;
        let size = (w + 2 * quiet) * scale;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
            let (mx, my) = (x / scale, y / scale);
            if mx < quiet || my < quiet || mx >= w + quiet || my >= w + quiet {
                return 255;
            }
            match colors[(my - quiet) * w + (mx - quiet)] {
                qrcode::Color::Dark => 0,
                qrcode::Color::Light => 255,
            }
        });
        let grids = img.detect_grids();
        grids[0].decode().unwrap().1
    }

    #[test]
    fn qr_codes_decode_back_to_the_url_and_fingerprint() {
        let url = "https://10.0.0.5:8443/";
        assert_eq!(decode(url), url);
        let fp = "SHA256:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
        assert_eq!(decode(fp), fp);
        let svg = qr_svg(url).unwrap();
        assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    }

    #[test]
    fn the_page_follows_the_browser_language() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(prefers_russian(&h("ru-RU,ru;q=0.9,en;q=0.8")));
        assert!(prefers_russian(&h("de-DE, ru;q=0.5")));
        assert!(!prefers_russian(&h("en-US,en;q=0.9,ru;q=0.8")));
        assert!(!prefers_russian(&h("ru;q=0, en")));
        assert!(!prefers_russian(&HeaderMap::new()));
    }

    #[test]
    fn powershell_line_checks_the_hash_before_importing() {
        let line = powershell_line("http://10.0.0.5:8080", "AB:CD");
        assert!(line.contains("Get-FileHash -Algorithm SHA256"));
        assert!(line.contains("-eq 'ABCD'"));
        assert!(line.find("Get-FileHash") < line.find("Import-Certificate"));
    }
}

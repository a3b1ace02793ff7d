//! Directory sign-in against a real OpenLDAP server (Debian's `slapd`), started once for the
//! whole test run on 127.0.0.1 from a temporary directory, and ended when the test process ends.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const BASE: &str = "dc=example,dc=org";
const SERVICE_DN: &str = "cn=outpost,dc=example,dc=org";
const SERVICE_PASSWORD: &str = "service-secret";
const ROOT_DN: &str = "cn=admin,dc=example,dc=org";
const ROOT_PASSWORD: &str = "root-secret";

struct Slapd {
    url: String,
    dir: PathBuf,
    /// The watchdog shell; it ends slapd and itself when this process ends.
    _watchdog: std::sync::Mutex<std::process::Child>,
}

fn person(uid: &str, cn: &str, password: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {cn}\n\
         sn: {cn}\ntitle: Duty officer\nuserPassword: {password}\n\n"
    )
}

/// A JPEG of the given size, as a directory would hold a person's photo.
fn test_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 90, 160]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// The test run's directory server, started at first use. Like a real directory, it answers
/// the service account at most a few entries per search (3 here, 500 in OpenLDAP by default):
/// lists of everyone must be read page by page.
fn slapd() -> &'static Slapd {
    static SLAPD: OnceLock<Slapd> = OnceLock::new();
    SLAPD.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("outpost-slapd")
            .tempdir()
            .unwrap()
            .keep();
        std::fs::create_dir_all(dir.join("db")).unwrap();
        let conf = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
             pidfile {d}/slapd.pid\n\
             database mdb\nsuffix \"{BASE}\"\nrootdn \"{ROOT_DN}\"\nrootpw {ROOT_PASSWORD}\n\
             directory {d}/db\nmaxsize 10485760\n\
             limits dn.exact=\"{SERVICE_DN}\" size.soft=3 size.hard=3 size.pr=200 size.prtotal=unlimited\n",
            d = dir.display()
        );
        std::fs::write(dir.join("slapd.conf"), conf).unwrap();
        let mut ldif = format!(
            "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
             dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n\
             cn: outpost\nuserPassword: {SERVICE_PASSWORD}\n\n"
        );
        for (uid, cn, pw) in [
            ("anna", "Anna Petrova", "anna-password"),
            ("boris", "Boris Ivanov", "boris-password"),
            ("vera", "Vera Smirnova", "vera-password"),
            ("gleb", "Gleb Orlov", "gleb-password"),
            ("admin", "Directory Admin Lookalike", "lookalike-password"),
            ("egor", "Egor Kuznetsov", "egor-password"),
        ] {
            ldif.push_str(&person(uid, cn, pw));
        }
        // Dina has a full profile and a photo; the groups test alone uses her, Egor and the
        // groups, so tests running at once do not disturb each other.
        use base64::Engine as _;
        let photo = base64::engine::general_purpose::STANDARD.encode(test_jpeg(300, 200));
        ldif.push_str(&format!(
            "dn: uid=dina,ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: dina\n\
             cn: Дина Волкова\nsn: Volkova\ntitle: Shift lead\ndepartmentNumber: Logistics\n\
             telephoneNumber: +7 495 123-45-67\njpegPhoto:: {photo}\nuserPassword: dina-password\n\n\
             dn: ou=groups,{BASE}\nobjectClass: organizationalUnit\nou: groups\n\n\
             dn: cn=ops-admins,ou=groups,{BASE}\nobjectClass: groupOfNames\ncn: ops-admins\n\
             member: uid=dina,ou=people,{BASE}\n\n\
             dn: cn=duty-team,ou=groups,{BASE}\nobjectClass: groupOfNames\ncn: duty-team\n\
             member: uid=dina,ou=people,{BASE}\nmember: UID=egor, ou=people,{BASE}\n\n"
        ));
        std::fs::write(dir.join("data.ldif"), ldif).unwrap();
        let out = std::process::Command::new("slapadd")
            .arg("-f")
            .arg(dir.join("slapd.conf"))
            .arg("-l")
            .arg(dir.join("data.ldif"))
            .output()
            .expect("slapadd (Debian's slapd package) is installed");
        assert!(out.status.success(), "slapadd: {}", String::from_utf8_lossy(&out.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("ldap://127.0.0.1:{port}");
        // slapd runs in the foreground under a watchdog that ends it when this test process
        // ends, however it ends.
        let script = format!(
            "slapd -f {d}/slapd.conf -h {url}/ -d 0 >{d}/slapd.log 2>&1 & s=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $s 2>/dev/null; do sleep 1; done; kill $s",
            d = dir.display(),
            parent = std::process::id(),
        );
        let watchdog = std::process::Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "slapd did not start: see {}", dir.display());
            std::thread::sleep(Duration::from_millis(50));
        }
        Slapd {
            url,
            dir,
            _watchdog: std::sync::Mutex::new(watchdog),
        }
    })
}

fn directory_config(c: &mut outpost::config::Config, url: &str) {
    let d = slapd();
    let pw = d.dir.join("service-password");
    std::fs::write(&pw, format!("{SERVICE_PASSWORD}\n")).unwrap();
    c.ldap = outpost::config::LdapConfig {
        urls: vec![url.to_string()],
        allow_plain: true,
        bind_dn: SERVICE_DN.into(),
        bind_password_file: Some(pw),
        user_base: format!("ou=people,{BASE}"),
        user_filter: "(objectClass=inetOrgPerson)".into(),
        ..Default::default()
    };
}

fn ldapmodify(ldif: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("ldapmodify")
        .args(["-x", "-H", &slapd().url, "-D", ROOT_DN, "-w", ROOT_PASSWORD])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ldif.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn people_sign_in_with_the_directory_and_their_account_follows_it() {
    let url = slapd().url.clone();
    let app = spawn_app_with(|c| directory_config(c, &url)).await;
    let admin = app.setup_admin().await;

    // First sign-in creates the account from the directory entry.
    let r = login(&app, "anna", "anna-password").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["username"], "anna");
    assert_eq!(body["user"]["display_name"], "Anna Petrova");
    let anna = body["token"].as_str().unwrap().to_string();
    assert_eq!(app.get_with(&anna, "/api/v1/channels").await.status(), 200);
    // Names are not case-sensitive, as in the directory.
    assert_eq!(login(&app, "ANNA", "anna-password").await.status(), 200);
    let r = login(&app, "anna", "wrong-password").await;
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(r).await, "invalid-credentials");
    assert_eq!(login(&app, "nobody", "whatever-pass").await.status(), 401);

    // A change in the directory reaches the account at the next sign-in.
    ldapmodify(&format!(
        "dn: uid=anna,ou=people,{BASE}\nchangetype: modify\nreplace: cn\ncn: Anna Sidorova\n"
    ));
    let body: Value = login(&app, "anna", "anna-password")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["display_name"], "Anna Sidorova");

    // The local administrator (break-glass) signs in with the local password, and the
    // directory's "admin" entry cannot take that account over.
    assert_eq!(login(&app, ADMIN, ADMIN_PASSWORD).await.status(), 200);
    assert_eq!(
        login(&app, "admin", "lookalike-password").await.status(),
        401
    );

    // Directory accounts have no password here to change: it lives in the directory.
    let r = api(
        &app,
        &anna,
        Method::PUT,
        "/api/v1/me/password",
        Some(json!({"current_password": "anna-password", "new_password": "local-password-1"})),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("directory"));

    // Two-step sign-in works for directory accounts: enrolling asks the directory password.
    let r = api(
        &app,
        &anna,
        Method::POST,
        "/api/v1/me/two-factor",
        Some(json!({"password": "wrong-password"})),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = api(
        &app,
        &anna,
        Method::POST,
        "/api/v1/me/two-factor",
        Some(json!({"password": "anna-password"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let e: Value = r.json().await.unwrap();
    let secret = crate::two_factor::base32_decode(e["secret"].as_str().unwrap());
    let now = crate::two_factor::now();
    let code = crate::two_factor::code_at(&secret, now);
    let r = api(
        &app,
        &anna,
        Method::POST,
        "/api/v1/me/two-factor/confirm",
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = login(&app, "anna", "anna-password").await;
    assert_eq!(error_code(r).await, "second-factor-required");
    let next = crate::two_factor::code_at(&secret, now + 30);
    let r = app
        .api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "anna", "password": "anna-password", "code": next}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let audit: Value = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .json()
        .await
        .unwrap();
    let text = audit.to_string();
    assert!(text.contains("directory-account-created"));
    assert!(text.contains("directory-account-updated"));
    assert!(!text.contains(SERVICE_PASSWORD) && !text.contains("anna-password"));
    app.stop().await;
}

#[tokio::test]
async fn filter_characters_in_a_user_name_find_nobody() {
    let url = slapd().url.clone();
    let app = spawn_app_with(|c| directory_config(c, &url)).await;
    for name in [
        "*",
        "*)(uid=*",
        "anna)(|(uid=*",
        "an*",
        "boris)(objectClass=*",
        "\\2a",
        "anna\u{0}",
    ] {
        for password in ["anna-password", "boris-password"] {
            let r = login(&app, name, password).await;
            assert_eq!(r.status(), 401, "{name:?}");
        }
    }
    // An empty password would be an anonymous bind, which the directory accepts.
    assert_eq!(login(&app, "boris", "").await.status(), 401);
    assert_eq!(login(&app, "boris", "boris-password").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_directory_refuses_sign_ins_plainly_and_keeps_sessions() {
    let url = slapd().url.clone();
    let app = spawn_app_with(|c| directory_config(c, &url)).await;
    app.setup_admin().await;
    let vera: Value = login(&app, "vera", "vera-password")
        .await
        .json()
        .await
        .unwrap();
    let vera = vera["token"].as_str().unwrap().to_string();
    let (dir, mut config) = app.stop().await;

    // The same site restarted with a directory that does not answer.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("ldap://{}", dead.local_addr().unwrap());
    drop(dead);
    config.ldap.urls = vec![dead_url];
    config.ldap.timeout_secs = 2;
    let app = spawn_in(dir, config).await;
    let r = login(&app, "vera", "vera-password").await;
    assert_eq!(r.status(), 503);
    assert_eq!(error_code(r).await, "directory-unavailable");
    assert_eq!(
        app.get_with(&vera, "/api/v1/me").await.status(),
        200,
        "sessions go on"
    );
    assert_eq!(
        login(&app, ADMIN, ADMIN_PASSWORD).await.status(),
        200,
        "local accounts too"
    );
    app.stop().await;
}

#[tokio::test]
async fn ldap_test_says_what_it_found_and_what_failed() {
    let d = slapd();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, password: &str| {
        let pw = dir.path().join(format!("{name}.pw"));
        std::fs::write(&pw, password).unwrap();
        let conf = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &conf,
            format!(
                "data_dir = \"{data}\"\n[ldap]\nurls = [\"{url}\"]\nallow_plain = true\n\
                 bind_dn = \"{SERVICE_DN}\"\nbind_password_file = \"{pw}\"\n\
                 user_base = \"ou=people,{BASE}\"\nuser_filter = \"(objectClass=inetOrgPerson)\"\n",
                data = dir.path().join("data").display(),
                url = d.url,
                pw = pw.display(),
            ),
        )
        .unwrap();
        conf
    };
    let good = write("good", SERVICE_PASSWORD);
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(["ldap", "test", "--config"])
            .arg(&good)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("people found:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(found >= 4, "{text}");
    assert!(text.contains("uid=anna,ou=people"), "{text}");
    assert!(!text.contains(SERVICE_PASSWORD));

    let bad = write("bad", "not-the-password");
    let out = tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(["ldap", "test", "--config"])
            .arg(&bad)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(err.contains("refused Outpost's service account"), "{err}");
    assert!(!err.contains("not-the-password"));
}

/// A config file for the CLI: this app's data dir and the directory at `url`.
fn cli_config(app: &TestApp, url: &str) -> PathBuf {
    let dir = app.data_dir();
    let pw = dir.join("ldap-service-password");
    std::fs::write(&pw, SERVICE_PASSWORD).unwrap();
    let path = dir.join("cli-ldap.toml");
    std::fs::write(
        &path,
        format!(
            "[ldap]\nurls = [\"{url}\"]\nallow_plain = true\ntimeout_secs = 2\n\
             bind_dn = \"{SERVICE_DN}\"\nbind_password_file = \"{pw}\"\n\
             user_base = \"ou=people,{BASE}\"\nuser_filter = \"(objectClass=inetOrgPerson)\"\n",
            pw = pw.display(),
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn sync_disables_people_the_directory_no_longer_lists_and_never_when_it_is_down() {
    let url = slapd().url.clone();
    let app = spawn_app_with(|c| {
        directory_config(c, &url);
        c.ldap.sync_interval_secs = 0;
    })
    .await;
    let admin = app.setup_admin().await;
    let gleb: Value = login(&app, "gleb", "gleb-password")
        .await
        .json()
        .await
        .unwrap();
    let gleb = gleb["token"].as_str().unwrap().to_string();
    assert_eq!(login(&app, "boris", "boris-password").await.status(), 200);

    // The directory is down: the sync fails, saying so, and disables nobody.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("ldap://{}", dead.local_addr().unwrap());
    drop(dead);
    let conf = cli_config(&app, &dead_url);
    let out = cli_beside(&app, &["ldap", "sync", "--config", conf.to_str().unwrap()]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing changed"), "{err}");
    assert_eq!(app.get_with(&gleb, "/api/v1/me").await.status(), 200);

    // Gleb leaves the directory: the next sync disables him here and ends his session.
    let status = std::process::Command::new("ldapdelete")
        .args(["-x", "-H", &url, "-D", ROOT_DN, "-w", ROOT_PASSWORD])
        .arg(format!("uid=gleb,ou=people,{BASE}"))
        .status()
        .unwrap();
    assert!(status.success());
    let conf = cli_config(&app, &url);
    let out = cli_beside(&app, &["ldap", "sync", "--config", conf.to_str().unwrap()]).await;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("disabled gleb"), "{text}");
    assert!(!text.contains("disabled boris"), "{text}");
    assert_eq!(app.get_with(&gleb, "/api/v1/me").await.status(), 401);
    assert_eq!(login(&app, "gleb", "gleb-password").await.status(), 401);
    assert_eq!(login(&app, "boris", "boris-password").await.status(), 200);
    let audit: Value = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .json()
        .await
        .unwrap();
    assert!(audit.to_string().contains("directory-account-disabled"));
    app.stop().await;
}

async fn token_of(app: &TestApp, name: &str, password: &str) -> (String, Value) {
    let r = login(app, name, password).await;
    assert_eq!(r.status(), 200, "{name}");
    let body: Value = r.json().await.unwrap();
    (
        body["token"].as_str().unwrap().to_string(),
        body["user"].clone(),
    )
}

async fn channel_names(app: &TestApp, token: &str) -> Vec<String> {
    let list: Value = app
        .get_with(token, "/api/v1/channels")
        .await
        .json()
        .await
        .unwrap();
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    names.sort();
    names
}

async fn me(app: &TestApp, token: &str) -> Value {
    let r = app.get_with(token, "/api/v1/me").await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn directory_groups_give_admin_and_channels_and_profiles_follow_the_directory() {
    let url = slapd().url.clone();
    let app = spawn_app_with(|c| {
        directory_config(c, &url);
        c.ldap.user_filter = "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))".into();
        c.ldap.group_base = format!("ou=groups,{BASE}");
        c.ldap.admin_groups = vec!["ops-admins".into()];
        c.ldap.channel_groups = [
            ("duty-team".to_string(), vec!["duty".to_string()]),
            (
                "ops-admins".to_string(),
                vec!["ops-room".to_string(), "no-such-channel".to_string()],
            ),
        ]
        .into();
        c.ldap.sync_interval_secs = 1;
    })
    .await;
    let admin = app.setup_admin().await;
    create_channel(&app, &admin, "duty", false).await;
    create_channel(&app, &admin, "ops-room", true).await;
    let lounge = create_channel(&app, &admin, "lounge", false).await;

    // First sign-in: the account has the directory's profile and photo, administers (a
    // member of ops-admins) and is in the groups' channels.
    let (dina, user) = token_of(&app, "dina", "dina-password").await;
    assert_eq!(user["display_name"], "Дина Волкова");
    assert_eq!(user["is_admin"], true);
    let mine = me(&app, &dina).await;
    assert_eq!(mine["title"], "Shift lead");
    assert_eq!(mine["department"], "Logistics");
    assert_eq!(mine["phone"], "+7 495 123-45-67");
    assert_eq!(mine["from_directory"], true);
    let managed = mine["managed_fields"].to_string();
    for f in ["display_name", "title", "department", "phone", "photo"] {
        assert!(managed.contains(f), "{managed}");
    }
    let photo = mine["photo_url"].as_str().expect("a photo").to_string();
    assert_eq!(
        channel_names(&app, &dina).await,
        ["duty", "general", "ops-room"]
    );

    // Anyone signed in sees the photo: square, small and large, never enlarged.
    let (egor, user) = token_of(&app, "egor", "egor-password").await;
    assert_eq!(user["is_admin"], false);
    assert_eq!(channel_names(&app, &egor).await, ["duty", "general"]);
    for (size, side) in [("small", 96), ("large", 200)] {
        let r = app.get_with(&egor, &format!("{photo}&size={size}")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let img = image::load_from_memory(&r.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (side, side), "{size}");
    }
    assert_eq!(
        app.api_client()
            .get(app.url(&photo))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "not without signing in"
    );

    // What the directory provides, only the directory changes.
    let r = api(
        &app,
        &dina,
        Method::PATCH,
        "/api/v1/me",
        Some(json!({"title": "Boss"})),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(error_code(r).await, "managed-by-directory");
    let r = api(
        &app,
        &dina,
        Method::PATCH,
        "/api/v1/me",
        Some(json!({"about": "Night shifts"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = app
        .api_client()
        .put(app.url("/api/v1/me/photo"))
        .bearer_auth(&dina)
        .body(test_jpeg(64, 64))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // Egor joins a channel himself: the directory never takes that away.
    assert_eq!(
        api(
            &app,
            &egor,
            Method::POST,
            &format!("/api/v1/channels/{lounge}/join"),
            None
        )
        .await
        .status(),
        204
    );

    // The directory changes: Dina leaves ops-admins, Egor leaves duty-team and gets a title,
    // Dina's photo is removed.
    ldapmodify(&format!(
        "dn: cn=ops-admins,ou=groups,{BASE}\nchangetype: modify\nreplace: member\n\
         member: cn=outpost,{BASE}\n\n\
         dn: cn=duty-team,ou=groups,{BASE}\nchangetype: modify\nreplace: member\n\
         member: uid=dina,ou=people,{BASE}\n\n\
         dn: uid=egor,ou=people,{BASE}\nchangetype: modify\nreplace: title\ntitle: Radio operator\n\n\
         dn: uid=dina,ou=people,{BASE}\nchangetype: modify\ndelete: jpegPhoto\n"
    ));
    // The server's own sync (every second here) applies it to people who do not sign in.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let d = me(&app, &dina).await;
        let e = me(&app, &egor).await;
        let done = d["is_admin"] == false
            && d["photo_url"].is_null()
            && e["title"] == "Radio operator"
            && channel_names(&app, &egor).await == ["general", "lounge"]
            && channel_names(&app, &dina).await == ["duty", "general"];
        if done {
            assert_eq!(d["about"], "Night shifts", "what people wrote stays");
            break;
        }
        assert!(Instant::now() < deadline, "the sync did not apply: {d} {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Disabled in the directory (out of user_filter): disabled here at the next sync, and
    // enabled again when the directory lists them again. An administrator's own decision to
    // disable someone is never undone by the sync.
    ldapmodify(&format!(
        "dn: uid=egor,ou=people,{BASE}\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n"
    ));
    let users_of = |token: String| {
        let app = &app;
        async move {
            let list: Value = app
                .get_with(&token, "/api/v1/users")
                .await
                .json()
                .await
                .unwrap();
            list
        }
    };
    let disabled = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .map(|u| u["disabled"] == true)
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !disabled(&users_of(admin.clone()).await, "egor") {
        assert!(Instant::now() < deadline, "egor was not disabled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.get_with(&egor, "/api/v1/me").await.status(), 401);
    assert_eq!(login(&app, "egor", "egor-password").await.status(), 401);
    let dina_id = me(&app, &dina).await["id"].as_i64().unwrap();
    let r = api(
        &app,
        &admin,
        Method::POST,
        &format!("/api/v1/users/{dina_id}/disable"),
        None,
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    ldapmodify(&format!(
        "dn: uid=egor,ou=people,{BASE}\nchangetype: modify\ndelete: employeeType\n"
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    while disabled(&users_of(admin.clone()).await, "egor") {
        assert!(Instant::now() < deadline, "egor was not enabled again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        disabled(&users_of(admin.clone()).await, "dina"),
        "the admin's decision stands"
    );
    assert_eq!(login(&app, "egor", "egor-password").await.status(), 200);

    let audit = app
        .get_with(&admin, "/api/v1/admin/audit")
        .await
        .text()
        .await
        .unwrap();
    for action in [
        "directory-account-created",
        "directory-member-added",
        "directory-member-removed",
        "directory-account-disabled",
    ] {
        assert!(audit.contains(action), "{action}");
    }
    assert!(audit.contains("made an administrator by a directory group"));
    assert!(audit.contains("enabled: listed by the directory again"));

    // `outpost ldap test` finds the groups and names the one that is missing.
    let conf = cli_config(&app, &url);
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "group_base = \"ou=groups,{BASE}\"\nadmin_groups = [\"ops-admins\", \"nobody-group\"]\n"
    ));
    std::fs::write(&conf, text).unwrap();
    let out = cli_beside(&app, &["ldap", "test", "--config", conf.to_str().unwrap()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("groups found:  2"), "{text}");
    assert!(text.contains("no group named nobody-group"), "{text}");
    app.stop().await;
}

//! The agency's directory (OpenLDAP, Active Directory) as a source of accounts: find a person
//! with the service account, then bind as them with the password they typed. Only this module
//! talks LDAP; `auth` decides what a directory answer means for the account here.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use crate::config::LdapConfig;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("the directory cannot be reached: {0}")]
    Unreachable(String),
    #[error("the directory refused Outpost's service account ({0})")]
    ServiceBind(String),
    #[error("the directory search failed: {0}")]
    Search(String),
    #[error("{0}")]
    Config(String),
}

type Result<T, E = DirectoryError> = std::result::Result<T, E>;

/// A person as the directory describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub dn: String,
    pub username: String,
    pub display_name: String,
}

/// What `outpost ldap test` reports.
#[derive(Debug)]
pub struct TestReport {
    pub url: String,
    pub service_bind: String,
    pub people: usize,
    pub sample: Vec<DirectoryUser>,
}

#[derive(Clone)]
pub struct Directory {
    config: LdapConfig,
    bind_password: Arc<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Directory")
            .field("urls", &self.config.urls)
            .finish_non_exhaustive()
    }
}

fn tls_config(ca_file: &std::path::Path) -> Result<Arc<rustls::ClientConfig>> {
    let pem = std::fs::read(ca_file)
        .map_err(|e| DirectoryError::Config(format!("ldap.ca_file {}: {e}", ca_file.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| {
            DirectoryError::Config(format!("ldap.ca_file {}: {e}", ca_file.display()))
        })?;
        roots.add(cert).map_err(|e| {
            DirectoryError::Config(format!("ldap.ca_file {}: {e}", ca_file.display()))
        })?;
    }
    if roots.is_empty() {
        return Err(DirectoryError::Config(format!(
            "ldap.ca_file {} holds no certificate",
            ca_file.display()
        )));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DirectoryError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Directory {
    /// None when no directory is configured.
    pub fn from_config(config: &LdapConfig) -> Result<Option<Directory>> {
        if !config.enabled() {
            return Ok(None);
        }
        let bind_password = match &config.bind_password_file {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|e| {
                    DirectoryError::Config(format!("ldap.bind_password_file {}: {e}", p.display()))
                })?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            None => String::new(),
        };
        let tls = config.ca_file.as_deref().map(tls_config).transpose()?;
        Ok(Some(Directory {
            config: config.clone(),
            bind_password: Arc::new(bind_password),
            tls,
        }))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.config.timeout_secs)
    }

    /// A connection to the first directory server that answers.
    async fn connect(&self) -> Result<(Ldap, String)> {
        let mut last = String::from("no URL configured");
        for url in &self.config.urls {
            let mut settings = LdapConnSettings::new()
                .set_conn_timeout(self.timeout())
                .set_starttls(self.config.starttls && url.starts_with("ldap://"));
            if let Some(tls) = &self.tls {
                settings = settings.set_config(tls.clone());
            }
            match tokio::time::timeout(self.timeout(), LdapConnAsync::with_settings(settings, url))
                .await
            {
                Ok(Ok((conn, mut ldap))) => {
                    tokio::spawn(async move {
                        if let Err(e) = conn.drive().await {
                            tracing::debug!(error = %e, "directory connection ended");
                        }
                    });
                    ldap.with_timeout(self.timeout());
                    return Ok((ldap, url.clone()));
                }
                Ok(Err(e)) => last = format!("{url}: {e}"),
                Err(_) => last = format!("{url}: no answer within {:?}", self.timeout()),
            }
        }
        Err(DirectoryError::Unreachable(last))
    }

    async fn service_bind(&self, ldap: &mut Ldap) -> Result<()> {
        if self.config.bind_dn.is_empty() {
            return Ok(());
        }
        let res = ldap
            .simple_bind(&self.config.bind_dn, &self.bind_password)
            .await
            .map_err(|e| DirectoryError::Unreachable(e.to_string()))?;
        if res.rc != 0 {
            return Err(DirectoryError::ServiceBind(format!(
                "result {}: {}",
                res.rc, res.text
            )));
        }
        Ok(())
    }

    fn person(&self, entry: ldap3::ResultEntry) -> Option<DirectoryUser> {
        // The library panics on malformed entries; a hostile or broken server must not
        // take the sign-in task down with it.
        let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            SearchEntry::construct(entry)
        }))
        .ok()?;
        let first = |attr: &str| {
            e.attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(attr))
                .and_then(|(_, v)| v.first().cloned())
        };
        let username = first(&self.config.username_attribute)?;
        let display_name = first(&self.config.display_name_attribute).unwrap_or_default();
        Some(DirectoryUser {
            dn: e.dn,
            username,
            display_name,
        })
    }

    async fn search(
        &self,
        ldap: &mut Ldap,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryUser>> {
        let attrs = [
            self.config.username_attribute.as_str(),
            self.config.display_name_attribute.as_str(),
        ];
        let (entries, _res) = ldap
            .search(&self.config.user_base, Scope::Subtree, filter, attrs)
            .await
            .map_err(|e| DirectoryError::Search(e.to_string()))?
            .success()
            .map_err(|e| DirectoryError::Search(e.to_string()))?;
        Ok(entries
            .into_iter()
            .take(limit)
            .filter_map(|e| self.person(e))
            .collect())
    }

    /// The person with this user name, if the password is theirs. `Ok(None)` for an unknown
    /// name, an ambiguous one or a wrong password: the caller cannot tell which.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<DirectoryUser>> {
        // An empty password would be an unauthenticated bind, which directories accept.
        if password.is_empty() || username.is_empty() {
            return Ok(None);
        }
        let (mut ldap, _) = self.connect().await?;
        self.service_bind(&mut ldap).await?;
        // Every value typed by a person is escaped, so `*)(uid=*` is a name, not a filter.
        let filter = format!(
            "(&{}({}={}))",
            self.config.user_filter,
            self.config.username_attribute,
            ldap_escape(username)
        );
        let found = self.search(&mut ldap, &filter, 2).await?;
        let [person] = found.as_slice() else {
            let _ = ldap.unbind().await;
            return Ok(None);
        };
        let res = ldap
            .simple_bind(&person.dn, password)
            .await
            .map_err(|e| DirectoryError::Unreachable(e.to_string()))?;
        let _ = ldap.unbind().await;
        Ok((res.rc == 0).then(|| person.clone()))
    }

    /// Everyone `user_filter` matches under `user_base`.
    pub async fn people(&self) -> Result<Vec<DirectoryUser>> {
        let (mut ldap, _) = self.connect().await?;
        self.service_bind(&mut ldap).await?;
        let people = self
            .search(&mut ldap, &self.config.user_filter, usize::MAX)
            .await?;
        let _ = ldap.unbind().await;
        Ok(people)
    }

    pub fn sync_interval(&self) -> Option<Duration> {
        (self.config.sync_interval_secs > 0)
            .then(|| Duration::from_secs(self.config.sync_interval_secs))
    }

    /// Connects, binds as the service account and searches for people: each step's failure
    /// is reported plainly.
    pub async fn test(&self) -> Result<TestReport> {
        let (mut ldap, url) = self.connect().await?;
        self.service_bind(&mut ldap).await?;
        let people = self
            .search(&mut ldap, &self.config.user_filter, usize::MAX)
            .await?;
        let _ = ldap.unbind().await;
        Ok(TestReport {
            url,
            service_bind: if self.config.bind_dn.is_empty() {
                "anonymous".into()
            } else {
                self.config.bind_dn.clone()
            },
            people: people.len(),
            sample: people.into_iter().take(5).collect(),
        })
    }
}

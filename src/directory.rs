//! The agency's directory (OpenLDAP, Active Directory) as a source of accounts: find a person
//! with the service account, then bind as them with the password they typed. Only this module
//! talks LDAP; `auth` decides what a directory answer means for the account here.

use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, ResultEntry, Scope, SearchEntry};

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

/// Entries asked for per page: directories cap how many one search may return (OpenLDAP 500,
/// Active Directory 1,000 by default), so lists of everyone are read page by page.
const PAGE_SIZE: i32 = 200;

/// A photo larger than this in the directory is ignored (directories hold thumbnails; this is
/// far above any sane one).
const MAX_PHOTO_BYTES: usize = 4 << 20;

/// A person as the directory describes them. A profile field is None when the configuration
/// maps no attribute to it (people then keep it themselves), and empty when the entry lacks it.
#[derive(Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub dn: String,
    pub username: String,
    pub display_name: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    /// None when no photo attribute is mapped; Some(empty) when the entry has no photo.
    pub photo: Option<Vec<u8>>,
    /// Names of the groups (under `group_base`) that list this person.
    pub groups: Vec<String>,
}

impl std::fmt::Debug for DirectoryUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryUser")
            .field("dn", &self.dn)
            .field("username", &self.username)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

/// What `outpost ldap test` reports.
#[derive(Debug)]
pub struct TestReport {
    pub url: String,
    pub service_bind: String,
    pub people: usize,
    pub sample: Vec<DirectoryUser>,
    /// Groups found under `group_base` (None: groups are not used).
    pub groups: Option<usize>,
    /// Groups named in `admin_groups` or `channel_groups` that the directory does not have.
    pub missing_groups: Vec<String>,
}

struct Group {
    name: String,
    members: Vec<String>,
}

/// A DN compared loosely: case and the spaces around separators do not matter.
fn dn_key(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| {
            rdn.split('=')
                .map(|p| p.trim().to_lowercase())
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Group {
    fn lists(&self, dn_key_of_person: &str, username: &str) -> bool {
        self.members
            .iter()
            .any(|m| m == username || dn_key(m) == dn_key_of_person)
    }
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
    crate::pki::client_config_trusting(ca_file, "ldap.ca_file")
        .map(Arc::new)
        .map_err(DirectoryError::Config)
}

/// The library panics on malformed entries; a hostile or broken server must not take the
/// sign-in task down with it.
fn construct(entry: ldap3::ResultEntry) -> Option<SearchEntry> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        SearchEntry::construct(entry)
    }))
    .ok()
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
        let e = construct(entry)?;
        let first = |attr: &str| {
            e.attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(attr))
                .and_then(|(_, v)| v.first().cloned())
        };
        let mapped = |attr: &str| (!attr.is_empty()).then(|| first(attr).unwrap_or_default());
        let username = first(&self.config.username_attribute)?;
        let display_name = first(&self.config.display_name_attribute).unwrap_or_default();
        let photo_attr = self.config.photo_attribute.as_str();
        // A photo is binary, but one that happens to be valid UTF-8 lands among the text values.
        let photo = (!photo_attr.is_empty()).then(|| {
            e.bin_attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(photo_attr))
                .and_then(|(_, v)| v.first().cloned())
                .or_else(|| first(photo_attr).map(String::into_bytes))
                .filter(|p| p.len() <= MAX_PHOTO_BYTES)
                .unwrap_or_default()
        });
        Some(DirectoryUser {
            title: mapped(&self.config.title_attribute),
            department: mapped(&self.config.department_attribute),
            phone: mapped(&self.config.phone_attribute),
            photo,
            dn: e.dn,
            username,
            display_name,
            groups: Vec::new(),
        })
    }

    async fn search(
        &self,
        ldap: &mut Ldap,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryUser>> {
        let attrs: Vec<String> = [
            &self.config.username_attribute,
            &self.config.display_name_attribute,
            &self.config.title_attribute,
            &self.config.department_attribute,
            &self.config.phone_attribute,
            &self.config.photo_attribute,
        ]
        .into_iter()
        .filter(|a| !a.is_empty())
        .cloned()
        .collect();
        let entries = self
            .paged(ldap, &self.config.user_base, filter, attrs)
            .await?;
        Ok(entries
            .into_iter()
            .take(limit)
            .filter_map(|e| self.person(e))
            .collect())
    }

    /// Every entry a search finds, read in pages (RFC 2696), so a directory's cap on one
    /// answer does not cut the list short.
    async fn paged(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
    ) -> Result<Vec<ResultEntry>> {
        let adapters: Vec<Box<dyn Adapter<String, Vec<String>>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let mut stream = ldap
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(|e| DirectoryError::Search(e.to_string()))?;
        let mut out = Vec::new();
        while let Some(entry) = stream
            .next()
            .await
            .map_err(|e| DirectoryError::Search(e.to_string()))?
        {
            out.push(entry);
        }
        stream
            .finish()
            .await
            .success()
            .map_err(|e| DirectoryError::Search(e.to_string()))?;
        Ok(out)
    }

    fn groups_used(&self) -> bool {
        !self.config.group_base.is_empty()
    }

    /// Groups under `group_base` matching `group_filter` and `extra` (a filter, or empty).
    async fn groups(&self, ldap: &mut Ldap, extra: &str) -> Result<Vec<Group>> {
        let filter = if extra.is_empty() {
            self.config.group_filter.clone()
        } else {
            format!("(&{}{extra})", self.config.group_filter)
        };
        let attrs = vec![
            self.config.group_name_attribute.clone(),
            self.config.group_member_attribute.clone(),
        ];
        let entries = self
            .paged(ldap, &self.config.group_base, &filter, attrs)
            .await
            .map_err(|e| DirectoryError::Search(format!("groups: {e}")))?;
        Ok(entries
            .into_iter()
            .filter_map(construct)
            .filter_map(|e| {
                let values = |attr: &str| {
                    e.attrs
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let name = values(&self.config.group_name_attribute)
                    .into_iter()
                    .next()?;
                Some(Group {
                    name,
                    members: values(&self.config.group_member_attribute),
                })
            })
            .collect())
    }

    /// The groups listing one person, by their DN or their user name.
    async fn groups_of(&self, ldap: &mut Ldap, person: &DirectoryUser) -> Result<Vec<String>> {
        if !self.groups_used() {
            return Ok(Vec::new());
        }
        let attr = &self.config.group_member_attribute;
        let filter = format!(
            "(|({attr}={})({attr}={}))",
            ldap_escape(&person.dn),
            ldap_escape(&person.username)
        );
        let key = dn_key(&person.dn);
        let mut names: Vec<String> = self
            .groups(ldap, &filter)
            .await?
            .into_iter()
            // The server matched; checking again keeps a loose server from granting a group.
            .filter(|g| g.lists(&key, &person.username))
            .map(|g| g.name)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
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
        let mut found = self.search(&mut ldap, &filter, 2).await?;
        if found.len() != 1 {
            let _ = ldap.unbind().await;
            return Ok(None);
        }
        let mut person = found.remove(0);
        // Groups are read as the service account, before binding as the person.
        person.groups = self.groups_of(&mut ldap, &person).await?;
        let res = ldap
            .simple_bind(&person.dn, password)
            .await
            .map_err(|e| DirectoryError::Unreachable(e.to_string()))?;
        let _ = ldap.unbind().await;
        Ok((res.rc == 0).then_some(person))
    }

    /// Everyone `user_filter` matches under `user_base`, with their groups.
    pub async fn people(&self) -> Result<Vec<DirectoryUser>> {
        let (mut ldap, _) = self.connect().await?;
        self.service_bind(&mut ldap).await?;
        let mut people = self
            .search(&mut ldap, &self.config.user_filter, usize::MAX)
            .await?;
        if self.groups_used() {
            let groups = self.groups(&mut ldap, "").await?;
            for p in &mut people {
                let key = dn_key(&p.dn);
                let mut names: Vec<String> = groups
                    .iter()
                    .filter(|g| g.lists(&key, &p.username))
                    .map(|g| g.name.clone())
                    .collect();
                names.sort();
                names.dedup();
                p.groups = names;
            }
        }
        let _ = ldap.unbind().await;
        Ok(people)
    }

    /// The profile fields the directory provides (and people therefore cannot change here).
    pub fn managed_profile_fields(&self) -> Vec<&'static str> {
        [
            ("title", &self.config.title_attribute),
            ("department", &self.config.department_attribute),
            ("phone", &self.config.phone_attribute),
            ("photo", &self.config.photo_attribute),
        ]
        .into_iter()
        .filter(|(_, attr)| !attr.is_empty())
        .map(|(name, _)| name)
        .collect()
    }

    /// The groups that make people administrators here (empty: the directory does not decide).
    pub fn admin_groups(&self) -> &[String] {
        &self.config.admin_groups
    }

    /// Group name → the channels its members belong in.
    pub fn channel_groups(&self) -> &std::collections::BTreeMap<String, Vec<String>> {
        &self.config.channel_groups
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
        let (groups, missing_groups) = if self.groups_used() {
            let found = self.groups(&mut ldap, "").await?;
            let missing = self
                .config
                .admin_groups
                .iter()
                .chain(self.config.channel_groups.keys())
                .filter(|name| !found.iter().any(|g| &g.name == *name))
                .cloned()
                .collect();
            (Some(found.len()), missing)
        } else {
            (None, Vec::new())
        };
        let _ = ldap.unbind().await;
        Ok(TestReport {
            groups,
            missing_groups,
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

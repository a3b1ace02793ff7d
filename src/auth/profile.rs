//! Profiles: job title, department, phone, a short "about" and a photo. People edit their own,
//! administrators anyone's; on a directory account the fields the directory provides
//! (`ldap.*_attribute`) are the directory's alone.

use crate::problem::Problem;
use sha2::{Digest, Sha256};

use super::{validate_display_name, Auth, AuthError, Result};
use crate::store::audit::{self, Entry};
use crate::store::users::{self, Avatar, Profile, User};

/// The largest photo accepted for upload.
pub const MAX_PHOTO_BYTES: usize = 10 << 20;

/// A change to a profile: only the fields given change.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub phone: Option<String>,
    pub about: Option<String>,
}

fn field(label: &str, key: &'static str, value: &str, max_chars: usize) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(AuthError::Validation(
            Problem::new(
                "too-long",
                format!("{label} is at most {max_chars} characters, without control characters"),
            )
            .field(key)
            .param("max", max_chars),
        ));
    }
    Ok(value.to_string())
}

fn about(value: &str) -> Result<String> {
    let value = value.trim();
    // Line breaks are fine in a few lines about oneself; other control characters are not.
    if value.chars().count() > 500 || value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AuthError::Validation(
            Problem::new(
                "too-long",
                "\"about\" is at most 500 characters, without control characters",
            )
            .field("about")
            .param("max", 500),
        ));
    }
    Ok(value.to_string())
}

fn phone(value: &str) -> Result<String> {
    let value = field("a phone number", "phone", value, 40)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().#*/".contains(c) || c.is_alphabetic())
    {
        return Err(AuthError::Validation(
            Problem::new(
                "bad-phone",
                "a phone number holds digits, spaces and + - ( ) . # * / (and an extension's letters)",
            )
            .field("phone"),
        ));
    }
    Ok(value)
}

/// The title, department and phone as the directory gives them, checked like people's own.
pub(crate) fn from_directory(
    mut base: Profile,
    title: Option<&str>,
    department: Option<&str>,
    phone_number: Option<&str>,
) -> Profile {
    // A value the directory holds that would be refused here is cut rather than dropping the
    // whole person.
    let clean = |v: &str, max: usize| -> String {
        v.chars()
            .filter(|c| !c.is_control())
            .take(max)
            .collect::<String>()
            .trim()
            .to_string()
    };
    if let Some(t) = title {
        base.title = clean(t, 100);
    }
    if let Some(d) = department {
        base.department = clean(d, 100);
    }
    if let Some(p) = phone_number {
        base.phone = clean(p, 40);
    }
    base
}

/// A profile photo made from an uploaded (or directory) image, off the async workers.
pub async fn make_avatar(bytes: Vec<u8>) -> Result<Avatar> {
    tokio::task::spawn_blocking(move || {
        let source_sha = Sha256::digest(&bytes).to_vec();
        let (small, large) =
            crate::media::image::avatar(&bytes).map_err(|e| AuthError::BadPhoto(e.to_string()))?;
        Ok(Avatar {
            source_sha,
            small,
            large,
        })
    })
    .await
    .map_err(|_| AuthError::BadPhoto("processing stopped".into()))?
}

impl Auth {
    /// The profile fields of this account only the directory may change.
    pub fn managed_fields(&self, user: &User) -> Vec<&'static str> {
        let Some(dir) = self.directory.as_ref().filter(|_| user.from_directory) else {
            return Vec::new();
        };
        let mut out = vec!["display_name"];
        out.extend(dir.managed_profile_fields());
        out
    }

    /// Fields `actor` may not change on a profile by the site's rule (`auth.profile_fields`);
    /// administrators may change them all, their own and anyone's.
    fn locked_fields(&self, actor: &User) -> Vec<&'static str> {
        if actor.is_admin {
            return Vec::new();
        }
        crate::config::PROFILE_FIELDS
            .into_iter()
            .filter(|f| !self.config.profile_fields.iter().any(|p| p == f))
            .collect()
    }

    /// Fields the signed-in user may not change on their own profile (the site's rule and
    /// the directory's).
    pub fn read_only_fields(&self, user: &User) -> Vec<&'static str> {
        let mut out = self.managed_fields(user);
        for f in self.locked_fields(user) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    fn may_edit(&self, actor: &User, target: &User) -> Result<()> {
        if actor.id != target.id && !actor.is_admin {
            return Err(AuthError::NotAllowed);
        }
        Ok(())
    }

    pub async fn update_profile(
        &self,
        actor: &User,
        target_id: i64,
        change: ProfileChange,
    ) -> Result<User> {
        let target = self
            .store
            .read(move |c| users::user_by_id(c, target_id))
            .await?;
        self.may_edit(actor, &target)?;
        let managed = self.managed_fields(&target);
        let locked = self.locked_fields(actor);
        let given = [
            ("display_name", change.display_name.is_some()),
            ("title", change.title.is_some()),
            ("department", change.department.is_some()),
            ("phone", change.phone.is_some()),
        ];
        if let Some((name, _)) = given
            .iter()
            .find(|(name, set)| *set && managed.contains(name))
        {
            let label = match *name {
                "display_name" => "name",
                "title" => "job title",
                other => other,
            };
            return Err(AuthError::ManagedByDirectory(label));
        }
        let about_given = ("about", change.about.is_some());
        if let Some((name, _)) = given
            .iter()
            .chain(std::iter::once(&about_given))
            .find(|(name, set)| *set && locked.contains(name))
        {
            return Err(AuthError::NotEditable(name));
        }
        let display = match &change.display_name {
            Some(n) => validate_display_name(n, &target.username)?,
            None => target.display_name.clone(),
        };
        let mut profile = target.profile.clone();
        if let Some(t) = &change.title {
            profile.title = field("a job title", "title", t, 100)?;
        }
        if let Some(d) = &change.department {
            profile.department = field("a department", "department", d, 100)?;
        }
        if let Some(p) = &change.phone {
            profile.phone = phone(p)?;
        }
        if let Some(a) = &change.about {
            profile.about = about(a)?;
        }
        let by_other = actor.id != target.id;
        let entry = Entry {
            actor_id: Some(actor.id),
            actor: actor.username.clone(),
            action: "profile-changed",
            target: target.username.clone(),
            ..Default::default()
        };
        let user = self
            .store
            .write(move |t| {
                users::set_display_name(t, target_id, &display)?;
                let user = users::set_profile(t, target_id, &profile)?;
                if by_other {
                    audit::append(t, &entry)?;
                }
                Ok(user)
            })
            .await?;
        self.announce(&user);
        Ok(user)
    }

    /// Sets a profile photo from an uploaded image (JPEG, PNG, WebP or GIF; cropped square).
    pub async fn set_photo(&self, actor: &User, target_id: i64, bytes: Vec<u8>) -> Result<User> {
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(AuthError::BadPhoto(format!(
                "it is larger than {} MiB",
                MAX_PHOTO_BYTES >> 20
            )));
        }
        self.change_photo(actor, target_id, Some(bytes)).await
    }

    pub async fn remove_photo(&self, actor: &User, target_id: i64) -> Result<User> {
        self.change_photo(actor, target_id, None).await
    }

    async fn change_photo(
        &self,
        actor: &User,
        target_id: i64,
        image: Option<Vec<u8>>,
    ) -> Result<User> {
        let target = self
            .store
            .read(move |c| users::user_by_id(c, target_id))
            .await?;
        self.may_edit(actor, &target)?;
        if self.managed_fields(&target).contains(&"photo") {
            return Err(AuthError::ManagedByDirectory("photo"));
        }
        if self.locked_fields(actor).contains(&"photo") {
            return Err(AuthError::NotEditable("photo"));
        }
        let avatar = match image {
            Some(bytes) => Some(make_avatar(bytes).await?),
            None => None,
        };
        // An administrator changing someone else's photo is audited; people's own changes
        // are not.
        let entry = (actor.id != target.id).then(|| Entry {
            actor_id: Some(actor.id),
            actor: actor.username.clone(),
            action: "profile-photo-changed",
            target: target.username.clone(),
            ..Default::default()
        });
        let user = self
            .store
            .write(move |t| {
                let user = users::set_avatar(t, target_id, avatar.as_ref())?;
                if let Some(e) = entry {
                    audit::append(t, &e)?;
                }
                Ok(user)
            })
            .await?;
        self.announce(&user);
        Ok(user)
    }

    /// Tells everyone connected that this person changed (name, photo, status, enabled).
    pub fn announce(&self, user: &User) {
        if let Some(chat) = &self.chat {
            chat.announce_person(user.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked() {
        assert_eq!(
            phone(" +7 (495) 123-45-67 ext 2 ").unwrap(),
            "+7 (495) 123-45-67 ext 2"
        );
        assert!(phone("<script>").is_err());
        assert!(field("a job title", "title", &"x".repeat(101), 100).is_err());
        assert!(field("a job title", "title", "a\u{7}b", 100).is_err());
        assert_eq!(about("line one\nline two").unwrap(), "line one\nline two");
        assert!(about(&"я".repeat(501)).is_err());
    }

    #[test]
    fn directory_values_are_cut_not_refused() {
        let p = from_directory(
            Profile {
                about: "kept".into(),
                ..Default::default()
            },
            Some(&"t".repeat(300)),
            None,
            Some("+1\u{0}555"),
        );
        assert_eq!(p.title.len(), 100);
        assert_eq!(p.phone, "+1555");
        assert_eq!(p.about, "kept");
        assert_eq!(p.department, "");
    }
}

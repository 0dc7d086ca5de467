//! Docker's `USER` (and `wsh run -u`): `name[:group]` or `uid[:gid]` resolved
//! through the image's /etc/passwd and /etc/group with runc's rules, the ones a
//! Docker user knows:
//!
//! - a user given by name must be in /etc/passwd ("unable to find user NAME");
//!   a numeric uid need not be (its gid is then 0 and its home `/`);
//! - a group given by name must be in /etc/group; a numeric gid need not be;
//! - with no group given, the primary group is the passwd entry's and the
//!   supplementary groups are the /etc/group entries listing the user by name;
//! - `HOME` is the passwd entry's home directory, `/` when there is none
//!   (it applies when the image's environment has no `HOME`);
//! - a directory WORKDIR creates belongs to the user (BuildKit's behaviour; the
//!   classic builder made it root's).

use anyhow::bail;
use fsimage::Vfs;
use wsh_runtime::Credentials;

/// A resolved `USER`: the ids the container runs as and the user's home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// uid, primary gid and supplementary groups.
    pub creds: Credentials,
    /// The home directory (HOME unless the image's environment sets it).
    pub home: String,
}

/// Largest id runc accepts (ids are positive `int32`s).
const MAX_ID: u64 = i32::MAX as u64;

fn id(s: &str) -> anyhow::Result<Option<u32>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    match s.parse::<u64>() {
        Ok(n) if n <= MAX_ID => Ok(Some(n as u32)),
        _ => bail!("uids and gids must be in range 0-{MAX_ID}"),
    }
}

/// Resolves `spec` (empty: root) against the image's account files.
pub fn resolve(vfs: &Vfs, spec: &str) -> anyhow::Result<User> {
    let passwd = read(vfs, "/etc/passwd");
    let group = read(vfs, "/etc/group");
    resolve_in(&passwd, &group, spec)
}

/// [`resolve`] over the text of /etc/passwd and /etc/group.
pub fn resolve_in(passwd: &str, group: &str, spec: &str) -> anyhow::Result<User> {
    let spec = spec.trim();
    let (user_arg, group_arg) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    // An empty user means root, as Docker's default.
    let user_arg = if user_arg.is_empty() { "0" } else { user_arg };
    let uid_arg = id(user_arg)?;
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 7)
        .find(|f| f[0] == user_arg || (uid_arg.is_some() && f[2].parse::<u32>().ok() == uid_arg));
    let (uid, mut gid, home, name) = match (entry, uid_arg) {
        // A damaged entry is an error, never root.
        (Some(f), _) => (
            f[2].parse::<u32>()
                .map_err(|_| anyhow::anyhow!("/etc/passwd: bad uid {:?} for {}", f[2], f[0]))?,
            f[3].parse::<u32>()
                .map_err(|_| anyhow::anyhow!("/etc/passwd: bad gid {:?} for {}", f[3], f[0]))?,
            if f[5].is_empty() { "/" } else { f[5] }.to_string(),
            Some(f[0].to_string()),
        ),
        (None, Some(uid)) => (uid, 0, "/".to_string(), None),
        (None, None) => {
            bail!("unable to find user {user_arg}: no matching entries in passwd file")
        }
    };
    let groups: Vec<Vec<&str>> = group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 3)
        .collect();
    let mut supplementary = Vec::new();
    match group_arg {
        Some(g) => {
            let gid_arg = id(g)?;
            let found = groups
                .iter()
                .find(|f| f[0] == g || (gid_arg.is_some() && f[2].parse::<u32>().ok() == gid_arg));
            gid = match (found, gid_arg) {
                (Some(f), _) => f[2]
                    .parse()
                    .map_err(|_| anyhow::anyhow!("/etc/group: bad gid {:?} for {}", f[2], f[0]))?,
                (None, Some(n)) => n,
                (None, None) => {
                    bail!("unable to find group {g}: no matching entries in group file")
                }
            };
        }
        // Supplementary groups only in the implicit form, and only for a named user.
        None => {
            if let Some(name) = &name {
                for f in &groups {
                    let members = f.get(3).copied().unwrap_or("");
                    if members.split(',').any(|m| m == name)
                        && let Ok(n) = f[2].parse::<u32>()
                    {
                        supplementary.push(n);
                    }
                }
            }
        }
    }
    Ok(User {
        creds: Credentials {
            uid,
            gid,
            groups: supplementary,
        },
        home,
    })
}

/// WORKDIR's directory, made as BuildKit makes it: missing components are
/// created 0755 and owned by the stage's `USER` (existing ones are left alone).
pub fn make_workdir(vfs: &Vfs, path: &str, user_spec: &str) -> anyhow::Result<()> {
    let mut owner = None;
    super::copy::mkdir_p_with(vfs, path, |dir| {
        // Resolved once, and only when something is made (as BuildKit's chown).
        if owner.is_none() {
            owner = Some(resolve(vfs, user_spec)?.creds);
        }
        if let Some(c) = owner.as_ref().filter(|c| !c.is_root()) {
            vfs.set_owner(dir, Some(c.uid), Some(c.gid))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// A text file of the image, empty when it cannot be read (no /etc/group is fine).
pub(crate) fn read(vfs: &Vfs, path: &str) -> String {
    let Ok(ino) = vfs.resolve(vfs.root(), path.as_bytes(), true) else {
        return String::new();
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = vfs.read(ino, out.len() as u64, &mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `export HOME=...` a container's shell starts with, unless `env` (the
/// image's `K=V` list) sets HOME itself.
pub fn home_export(env: &[String], user: &User) -> String {
    if env.iter().any(|kv| kv.starts_with("HOME=")) {
        return String::new();
    }
    let q = user.home.replace('\'', r"'\''");
    format!("export HOME='{q}'\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\napp:x:1000:\nstaff:x:50:app,bob\nwheel:x:10:bob\n";

    fn user(spec: &str) -> anyhow::Result<User> {
        resolve_in(PASSWD, GROUP, spec)
    }

    #[test]
    fn a_damaged_passwd_entry_is_an_error_not_root() {
        let e = resolve_in("app:x:oops:1000::/home/app:/bin/sh\n", "", "app").unwrap_err();
        assert!(e.to_string().contains("bad uid"), "{e}");
    }

    #[test]
    fn a_name_takes_ids_home_and_member_groups_from_the_files() {
        let u = user("app").unwrap();
        assert_eq!((u.creds.uid, u.creds.gid), (1000, 1000));
        assert_eq!(u.creds.groups, vec![50]);
        assert_eq!(u.home, "/home/app");
        assert_eq!(user("").unwrap().home, "/root");
        assert_eq!(user("1000").unwrap().creds.gid, 1000);
    }

    #[test]
    fn unknown_names_are_errors_unknown_numbers_are_not() {
        let e = user("ghost").unwrap_err().to_string();
        assert_eq!(
            e,
            "unable to find user ghost: no matching entries in passwd file"
        );
        let u = user("4242").unwrap();
        assert_eq!((u.creds.uid, u.creds.gid, u.home.as_str()), (4242, 0, "/"));
        assert_eq!(user("4242:77").unwrap().creds.gid, 77);
        assert!(user("app:nogroup").is_err());
        assert!(user("99999999999").is_err());
    }

    #[test]
    fn an_explicit_group_replaces_the_primary_and_drops_supplementary_ones() {
        let u = user("app:staff").unwrap();
        assert_eq!((u.creds.uid, u.creds.gid), (1000, 50));
        assert!(u.creds.groups.is_empty());
        assert_eq!(user("app:0").unwrap().creds.gid, 0);
    }

    #[test]
    fn home_is_exported_only_when_the_image_has_none() {
        let u = user("app").unwrap();
        assert_eq!(home_export(&[], &u), "export HOME='/home/app'\n");
        assert_eq!(home_export(&["HOME=/x".into()], &u), "");
    }
}

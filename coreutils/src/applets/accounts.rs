//! Account tools as Debian's shadow package and busybox have them: useradd,
//! groupadd, adduser (Debian's and busybox's options) and getent passwd|group. They
//! edit the image's /etc/passwd, /etc/group and /etc/shadow (and /etc/gshadow when
//! it exists) as Debian's tools write them; home directories get /etc/skel and the
//! new owner through the `wsh` host interface.

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::strerror;
use crate::wsh;

/// Debian's login.defs: UID_MIN/GID_MIN and the system range (allocated downwards).
const ID_MIN: u32 = 1000;
const ID_MAX: u32 = 60000;
const SYS_ID_MIN: u32 = 100;
const SYS_ID_MAX: u32 = 999;

/// One line of a colon-separated account file, split.
type Entry = Vec<String>;

fn read_db(path: &str) -> Vec<Entry> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

/// Appends `line` to `path` (creating it with `mode`), keeping a final newline.
fn append(path: &str, line: &str, mode: u32) -> std::io::Result<()> {
    let mut text = fs::read_to_string(path).unwrap_or_default();
    let existed = Path::new(path).exists();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    fs::write(path, text)?;
    if !existed {
        wsh::chmod(Path::new(path), mode)?;
    }
    Ok(())
}

fn write_db(path: &str, db: &[Entry]) -> std::io::Result<()> {
    let text: String = db.iter().map(|e| e.join(":") + "\n").collect();
    fs::write(path, text)
}

fn find<'a>(db: &'a [Entry], name: &str) -> Option<&'a Entry> {
    db.iter().find(|e| e.first().is_some_and(|n| n == name))
}

/// Whether /etc/group entry `e` is the group `g` names (by name or by gid).
fn names_group(e: &Entry, g: &str) -> bool {
    e.first().is_some_and(|n| n == g) || e.get(2).is_some_and(|id| id == g)
}

fn id_of(e: &Entry) -> Option<u32> {
    e.get(2)?.parse().ok()
}

/// The id a new account gets: the next free one after the highest in use (regular),
/// or the highest free one of the system range (as Debian allocates them).
fn next_id(used: &[u32], system: bool) -> Option<u32> {
    if system {
        (SYS_ID_MIN..=SYS_ID_MAX)
            .rev()
            .find(|id| !used.contains(id))
    } else {
        let top = used
            .iter()
            .copied()
            .filter(|id| (ID_MIN..=ID_MAX).contains(id))
            .max()
            .map_or(ID_MIN, |m| m + 1);
        (top..=ID_MAX)
            .chain(ID_MIN..top)
            .find(|id| !used.contains(id))
    }
}

/// Whether `name` is a valid account name (Debian's default rule, relaxed as
/// shadow's is: no colon, comma, whitespace or leading dash, and not a number).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.contains([':', ',', '/'])
        && !name.chars().any(char::is_whitespace)
        && name.parse::<u64>().is_err()
        && name.len() <= 32
}

/// Days since the epoch (shadow's "last change" field).
fn today() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86400)
}

/// An error as the shadow tools print it, and its exit status.
fn fail(tool: &str, msg: &str, status: i32) -> i32 {
    eprintln!("{tool}: {msg}");
    status
}

/// Adds group `name` (gid `gid`, or the next free one); returns its gid. `user_group`:
/// made by useradd for its user, whose password field shadow writes as `!` when there
/// is no /etc/gshadow (groupadd writes `x` either way).
fn add_group(
    tool: &str,
    name: &str,
    gid: Option<u32>,
    system: bool,
    user_group: bool,
) -> Result<u32, i32> {
    let groups = read_db("/etc/group");
    if find(&groups, name).is_some() {
        return Err(fail(tool, &format!("group '{name}' already exists"), 9));
    }
    let used: Vec<u32> = groups.iter().filter_map(id_of).collect();
    let gid = match gid {
        Some(g) if used.contains(&g) => {
            return Err(fail(tool, &format!("GID '{g}' already exists"), 4));
        }
        Some(g) => g,
        None => next_id(&used, system).ok_or_else(|| fail(tool, "can't get unique GID", 4))?,
    };
    let io = |e: std::io::Error| {
        fail(
            tool,
            &format!("cannot update /etc/group: {}", strerror(&e)),
            10,
        )
    };
    let gshadow = Path::new("/etc/gshadow").exists();
    let pw = if user_group && !gshadow { "!" } else { "x" };
    append("/etc/group", &format!("{name}:{pw}:{gid}:"), 0o644).map_err(io)?;
    if gshadow {
        append("/etc/gshadow", &format!("{name}:!::"), 0o640).map_err(io)?;
    }
    Ok(gid)
}

/// Adds `user` to the member lists of `groups` (names or gids) in /etc/group, and
/// in /etc/gshadow when it exists.
fn join_groups(tool: &str, user: &str, groups: &[String]) -> Result<(), i32> {
    let mut db = read_db("/etc/group");
    let gshadow_exists = Path::new("/etc/gshadow").exists();
    let mut gshadow = read_db("/etc/gshadow");
    for g in groups.iter().filter(|g| !g.is_empty()) {
        let Some(e) = db.iter_mut().find(|e| names_group(e, g)) else {
            return Err(fail(tool, &format!("group '{g}' does not exist"), 6));
        };
        add_member(e, user);
        let name = e[0].clone();
        if let Some(gs) = gshadow.iter_mut().find(|gs| gs.first() == Some(&name)) {
            add_member(gs, user);
        }
    }
    let io = |e: std::io::Error| {
        fail(
            tool,
            &format!("cannot update /etc/group: {}", strerror(&e)),
            10,
        )
    };
    write_db("/etc/group", &db).map_err(io)?;
    if gshadow_exists {
        write_db("/etc/gshadow", &gshadow).map_err(io)?;
    }
    Ok(())
}

/// Appends `user` to the comma-separated member list (the fourth field) of `e`.
fn add_member(e: &mut Entry, user: &str) {
    while e.len() < 4 {
        e.push(String::new());
    }
    let mut members: Vec<String> = e[3]
        .split(',')
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect();
    if !members.iter().any(|m| m == user) {
        members.push(user.to_string());
    }
    e[3] = members.join(",");
}

/// Copies /etc/skel into `home` (made with mode 0755 and owned by uid:gid).
fn make_home(tool: &str, home: &str, uid: u32, gid: u32) -> Result<(), i32> {
    let home_path = Path::new(home);
    if home_path.exists() {
        eprintln!("{tool}: warning: the home directory {home} already exists.");
        eprintln!("{tool}: Not copying any file from skel directory into it.");
        return Ok(());
    }
    let io = |e: std::io::Error| {
        fail(
            tool,
            &format!("cannot create directory {home}: {}", strerror(&e)),
            12,
        )
    };
    if let Some(parent) = home_path.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    fs::create_dir(home_path).map_err(io)?;
    wsh::chmod(home_path, 0o755).map_err(io)?;
    wsh::chown(home_path, Some(uid), Some(gid), false).map_err(io)?;
    copy_skel(Path::new("/etc/skel"), home_path, uid, gid).map_err(io)
}

fn copy_skel(from: &Path, to: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    let Ok(entries) = fs::read_dir(from) else {
        return Ok(());
    };
    for e in entries {
        let e = e?;
        let dest = to.join(e.file_name());
        let st = wsh::stat(&e.path(), false)?;
        match st.mode & wsh::S_IFMT {
            wsh::S_IFDIR => {
                fs::create_dir(&dest)?;
                copy_skel(&e.path(), &dest, uid, gid)?;
            }
            wsh::S_IFLNK => rustix::fs::symlink(fs::read_link(e.path())?, &dest)?,
            _ => {
                fs::copy(e.path(), &dest)?;
            }
        }
        if st.mode & wsh::S_IFMT != wsh::S_IFLNK {
            wsh::chmod(&dest, st.mode & 0o7777)?;
        }
        wsh::chown(&dest, Some(uid), Some(gid), false)?;
    }
    Ok(())
}

/// What a new user is to be.
struct NewUser {
    name: String,
    uid: Option<u32>,
    /// Primary group: a name or gid; `None` for a group named after the user.
    group: Option<String>,
    groups: Vec<String>,
    home: Option<String>,
    create_home: bool,
    shell: String,
    comment: String,
    system: bool,
    non_unique: bool,
    /// Make no group named after the user (`-N`); the primary group is then `users` (100).
    no_user_group: bool,
}

/// Adds the user; returns the exit status (shadow's codes).
fn add_user(tool: &str, u: &NewUser) -> i32 {
    if !valid_name(&u.name) {
        return fail(tool, &format!("invalid user name '{}'", u.name), 3);
    }
    let users = read_db("/etc/passwd");
    if find(&users, &u.name).is_some() {
        return fail(tool, &format!("user '{}' already exists", u.name), 9);
    }
    let used: Vec<u32> = users.iter().filter_map(id_of).collect();
    let uid = match u.uid {
        Some(id) if used.contains(&id) && !u.non_unique => {
            return fail(tool, &format!("UID {id} is not unique"), 4);
        }
        Some(id) => id,
        None => match next_id(&used, u.system) {
            Some(id) => id,
            None => return fail(tool, "can't get unique UID (no more available UIDs)", 4),
        },
    };
    let groups = read_db("/etc/group");
    // Every group named must exist before anything is written.
    if let Some(g) = u
        .groups
        .iter()
        .find(|g| !g.is_empty() && !groups.iter().any(|e| names_group(e, g)))
    {
        return fail(tool, &format!("group '{g}' does not exist"), 6);
    }
    let gid = match &u.group {
        Some(g) => match groups.iter().find(|e| names_group(e, g)).and_then(id_of) {
            Some(gid) => gid,
            None => return fail(tool, &format!("group '{g}' does not exist"), 6),
        },
        None if u.no_user_group => 100,
        None => {
            if find(&groups, &u.name).is_some() {
                return fail(
                    tool,
                    &format!(
                        "group {} exists - if you want to add this user to that group, use -g.",
                        u.name
                    ),
                    9,
                );
            }
            let used: Vec<u32> = groups.iter().filter_map(id_of).collect();
            // The user's own group takes the uid as its gid when that is free.
            let want = (!used.contains(&uid)).then_some(uid);
            match add_group(tool, &u.name, want, u.system, true) {
                Ok(g) => g,
                Err(status) => return status,
            }
        }
    };
    if let Err(status) = join_groups(tool, &u.name, &u.groups) {
        return status;
    }
    let home = u
        .home
        .clone()
        .unwrap_or_else(|| format!("/home/{}", u.name));
    let line = format!("{}:x:{uid}:{gid}:{}:{home}:{}", u.name, u.comment, u.shell);
    if let Err(e) = append("/etc/passwd", &line, 0o644) {
        return fail(
            tool,
            &format!("cannot update /etc/passwd: {}", strerror(&e)),
            1,
        );
    }
    // Password aging (login.defs' PASS_MAX_DAYS 99999, PASS_WARN_AGE 7) is for people;
    // system accounts get none.
    let aging = if u.system { "::::::" } else { ":0:99999:7:::" };
    let shadow = format!("{}:!:{}{aging}", u.name, today());
    if let Err(e) = append("/etc/shadow", &shadow, 0o640) {
        return fail(
            tool,
            &format!("cannot update /etc/shadow: {}", strerror(&e)),
            1,
        );
    }
    if u.create_home
        && let Err(status) = make_home(tool, &home, uid, gid)
    {
        return status;
    }
    0
}

fn id_arg(m: &ArgMatches, id: &str) -> Result<Option<u32>, String> {
    m.get_one::<String>(id)
        .map(|v| v.parse().map_err(|_| format!("invalid user ID '{v}'")))
        .transpose()
}

fn parse(cmd: Command, argv: Vec<OsString>) -> Result<ArgMatches, i32> {
    let name = cmd.get_name().to_string();
    cmd.try_get_matches_from(argv).map_err(|e| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp => {
                let _ = e.print();
                0
            }
            _ => {
                let msg = e.to_string();
                let first = msg
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ");
                eprintln!("{name}: {first}");
                eprintln!("Try '{name} --help' for more information.");
                2
            }
        }
    })
}

fn opt(id: &'static str, short: char, long: &'static str, help: &'static str) -> Arg {
    Arg::new(id).short(short).long(long).help(help)
}

fn flag(id: &'static str, short: char, long: &'static str, help: &'static str) -> Arg {
    opt(id, short, long, help).action(ArgAction::SetTrue)
}

/// Runs useradd.
pub fn useradd(argv: Vec<OsString>) -> i32 {
    let cmd = Command::new("useradd")
        .about("Create a new user account (Debian's useradd options).")
        .override_usage("useradd [options] LOGIN")
        .args([
            opt("uid", 'u', "uid", "user ID of the new account"),
            opt("gid", 'g', "gid", "name or ID of the primary group"),
            opt("groups", 'G', "groups", "list of supplementary groups"),
            opt("home", 'd', "home-dir", "home directory of the new account"),
            flag(
                "create_home",
                'm',
                "create-home",
                "create the user's home directory",
            ),
            flag(
                "no_create_home",
                'M',
                "no-create-home",
                "do not create the user's home directory",
            ),
            opt("shell", 's', "shell", "login shell of the new account"),
            opt("comment", 'c', "comment", "GECOS field of the new account"),
            flag("system", 'r', "system", "create a system account"),
            flag(
                "non_unique",
                'o',
                "non-unique",
                "allow a duplicate (non-unique) UID",
            ),
            flag(
                "user_group",
                'U',
                "user-group",
                "create a group with the same name as the user",
            ),
            flag(
                "no_user_group",
                'N',
                "no-user-group",
                "do not create a group with the same name",
            ),
            flag(
                "log_init",
                'l',
                "no-log-init",
                "accepted (no lastlog/faillog here)",
            ),
            opt(
                "password",
                'p',
                "password",
                "encrypted password of the new account",
            ),
            Arg::new("login").required(true),
        ]);
    let m = match parse(cmd, argv) {
        Ok(m) => m,
        Err(s) => return s,
    };
    let uid = match id_arg(&m, "uid") {
        Ok(u) => u,
        Err(e) => return fail("useradd", &e, 3),
    };
    let s = |id: &str| m.get_one::<String>(id).cloned();
    let u = NewUser {
        name: s("login").unwrap_or_default(),
        uid,
        group: s("gid"),
        groups: s("groups")
            .map(|g| g.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        home: s("home"),
        create_home: m.get_flag("create_home") && !m.get_flag("no_create_home"),
        shell: s("shell").unwrap_or_else(|| "/bin/sh".into()),
        comment: s("comment").unwrap_or_default(),
        system: m.get_flag("system"),
        non_unique: m.get_flag("non_unique"),
        no_user_group: m.get_flag("no_user_group"),
    };
    add_user("useradd", &u)
}

/// Runs groupadd.
pub fn groupadd(argv: Vec<OsString>) -> i32 {
    let cmd = Command::new("groupadd")
        .about("Create a new group (Debian's groupadd options).")
        .override_usage("groupadd [options] GROUP")
        .args([
            opt("gid", 'g', "gid", "use GID for the new group"),
            flag("system", 'r', "system", "create a system group"),
            flag(
                "force",
                'f',
                "force",
                "exit successfully if the group already exists",
            ),
            Arg::new("group").required(true),
        ]);
    let m = match parse(cmd, argv) {
        Ok(m) => m,
        Err(s) => return s,
    };
    let name = m.get_one::<String>("group").cloned().unwrap_or_default();
    if !valid_name(&name) {
        return fail(
            "groupadd",
            &format!("'{name}' is not a valid group name"),
            3,
        );
    }
    if m.get_flag("force") && find(&read_db("/etc/group"), &name).is_some() {
        return 0;
    }
    let gid = match m.get_one::<String>("gid").map(|g| g.parse::<u32>()) {
        Some(Ok(g)) => Some(g),
        Some(Err(_)) => return fail("groupadd", "invalid group ID", 3),
        None => None,
    };
    match add_group("groupadd", &name, gid, m.get_flag("system"), false) {
        Ok(_) => 0,
        Err(s) => s,
    }
}

/// Runs adduser: Debian's (`--disabled-password --gecos ''`, `--system`,
/// `--ingroup`, `adduser USER GROUP`) and busybox's (`-D -S -G -h -s -u -H`) options.
pub fn adduser(argv: Vec<OsString>) -> i32 {
    let cmd = Command::new("adduser")
        .about("Add a user, or add a user to a group (Debian's and busybox's options).")
        .override_usage("adduser [options] USER\n       adduser USER GROUP")
        .args([
            Arg::new("uid").long("uid").short('u').help("user ID"),
            Arg::new("gid").long("gid").help("primary group ID"),
            Arg::new("ingroup").long("ingroup").help("primary group"),
            Arg::new("join")
                .short('G')
                .help("a group to join (busybox)"),
            Arg::new("home")
                .long("home")
                .short('h')
                .help("home directory"),
            Arg::new("shell")
                .long("shell")
                .short('s')
                .help("login shell"),
            Arg::new("gecos")
                .long("gecos")
                .short('g')
                .help("GECOS field"),
            Arg::new("no_home")
                .long("no-create-home")
                .short('H')
                .action(ArgAction::SetTrue)
                .help("do not create the home directory"),
            Arg::new("system")
                .long("system")
                .short('S')
                .action(ArgAction::SetTrue)
                .help("create a system user"),
            Arg::new("disabled")
                .long("disabled-password")
                .short('D')
                .action(ArgAction::SetTrue)
                .help("no password (always so here)"),
            Arg::new("disabled_login")
                .long("disabled-login")
                .action(ArgAction::SetTrue)
                .help("no password (always so here)"),
            Arg::new("quiet")
                .long("quiet")
                .short('q')
                .action(ArgAction::SetTrue)
                .help("accepted"),
            Arg::new("names").num_args(1..=2).required(true),
        ]);
    let m = match parse(cmd, argv) {
        Ok(m) => m,
        Err(s) => return s,
    };
    let names: Vec<String> = m.get_many::<String>("names").unwrap().cloned().collect();
    if let [user, group] = names.as_slice() {
        if find(&read_db("/etc/passwd"), user).is_none() {
            return fail("adduser", &format!("The user `{user}' does not exist."), 1);
        }
        return match join_groups("adduser", user, std::slice::from_ref(group)) {
            Ok(()) => 0,
            Err(s) => s,
        };
    }
    let uid = match id_arg(&m, "uid") {
        Ok(u) => u,
        Err(e) => return fail("adduser", &e, 1),
    };
    let s = |id: &str| m.get_one::<String>(id).cloned();
    let system = m.get_flag("system");
    let name = names[0].clone();
    let u = NewUser {
        uid,
        group: s("gid").or_else(|| s("ingroup")),
        groups: s("join").into_iter().collect(),
        home: s("home"),
        create_home: !m.get_flag("no_home") && !system,
        shell: s("shell").unwrap_or_else(|| {
            if system {
                "/usr/sbin/nologin".into()
            } else {
                "/bin/sh".into()
            }
        }),
        comment: s("gecos").unwrap_or_default(),
        system,
        non_unique: false,
        no_user_group: false,
        name,
    };
    add_user("adduser", &u)
}

/// Runs getent for the passwd and group databases.
pub fn getent(argv: Vec<OsString>) -> i32 {
    let a = super::args(argv);
    if super::help(
        &a,
        "Usage: getent DATABASE [KEY]...\nGet entries from the passwd or group database (the image's /etc files).\n\n      --help  display this help and exit\n",
    ) {
        return 0;
    }
    let Some(db) = a.first() else {
        eprintln!("getent: wrong number of arguments");
        return 1;
    };
    let file = match db.as_str() {
        "passwd" => "/etc/passwd",
        "group" => "/etc/group",
        "shadow" => "/etc/shadow",
        "gshadow" => "/etc/gshadow",
        _ => {
            eprintln!("Unknown database: {db}");
            eprintln!("Try `getent --help' or `getent --usage' for more information.");
            return 1;
        }
    };
    let entries = read_db(file);
    if a.len() == 1 {
        for e in &entries {
            println!("{}", e.join(":"));
        }
        return 0;
    }
    let mut status = 0;
    for key in &a[1..] {
        let hit = entries.iter().find(|e| {
            e.first() == Some(key) || (key.parse::<u32>().is_ok() && e.get(2) == Some(key))
        });
        match hit {
            Some(e) => println!("{}", e.join(":")),
            None => status = 2,
        }
    }
    status
}

//! The options, as `azuma --help` states them (from the one struct clap
//! derives them from) and as README's Configuration table states them:
//! the same options, variables and defaults, so neither can drift.

use std::collections::BTreeMap;

use crate::helpers::binary;

/// An option's environment variable and default (`None`: none).
type Described = BTreeMap<String, (String, Option<String>)>;

/// What `--help` says of each option of `azuma` (serving).
async fn from_help() -> Described {
    let dir = tempfile::tempdir().unwrap();
    let output = binary(dir.path()).arg("--help").output().await.unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let mut options = Described::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("--") {
            let name = rest.split([' ', '<']).next().unwrap_or_default();
            current = Some(format!("--{name}"));
            if !["--help", "--version"].contains(&current.as_deref().unwrap_or_default()) {
                options.insert(format!("--{name}"), (String::new(), None));
            }
        } else if let (Some(name), Some(env)) = (&current, line.strip_prefix("[env: ")) {
            let env = env.trim_end_matches(']').trim_end_matches('=');
            options.get_mut(name).unwrap().0 = env.to_owned();
        } else if let (Some(name), Some(default)) = (&current, line.strip_prefix("[default: ")) {
            options.get_mut(name).unwrap().1 = Some(default.trim_end_matches(']').to_owned());
        }
    }
    options
}

/// What README's Configuration table says of each option.
fn from_readme() -> Described {
    let readme = include_str!("../../README.md");
    let mut options = Described::new();
    for row in readme.lines().filter(|l| l.starts_with("| `--")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let ticked = |cell: &str| -> Vec<String> {
            cell.split(',')
                .map(|part| {
                    part.trim()
                        .trim_start_matches("| ")
                        .trim_matches('`')
                        .to_owned()
                })
                .collect()
        };
        let (names, envs) = (ticked(cells[0]), ticked(cells[1]));
        assert_eq!(names.len(), envs.len(), "{row}");
        // A flag (`off` unless given) shows no default in --help.
        let default = match cells[2].trim() {
            "none" | "`off`" => None,
            ticked => Some(ticked.trim_matches('`').to_owned()),
        };
        for (name, env) in names.into_iter().zip(envs) {
            options.insert(name, (env, default.clone()));
        }
    }
    options
}

#[tokio::test]
async fn help_and_the_readme_table_list_the_same_options() {
    let (help, readme) = (from_help().await, from_readme());
    assert!(help.len() >= 20, "{help:?}");
    let names = |d: &Described| d.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&help),
        names(&readme),
        "options in --help and in README"
    );
    for (name, (env, default)) in &help {
        let (readme_env, readme_default) = &readme[name];
        assert_eq!(env, readme_env, "{name}'s variable");
        assert_eq!(default, readme_default, "{name}'s default");
    }
}

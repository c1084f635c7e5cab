//! Creates in flight, recorded in Terraform's data directory so a create
//! whose answer never reached a state (Terraform killed, the provider
//! killed) is recognised by the next apply in the same working directory
//! and workspace, and adopted instead of refused.
//!
//! A record is written before the node group is created and removed when
//! the create's answer goes back to Terraform. A record that is still there
//! at the next create of the same cluster and name proves that the object it
//! names belongs to no state: its instance tag matches, nothing else can.
//! Records of other working directories or workspaces are never seen, so
//! two states never share a node group through them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub region: String,
    pub cluster: String,
    pub name: String,
    pub workspace: String,
    pub instance: String,
    /// The launch template the create made, once it exists.
    #[serde(default)]
    pub launch_template_id: Option<String>,
}

/// The journal of one working directory (and workspace).
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    workspace: String,
}

impl Journal {
    /// Terraform's data directory (`TF_DATA_DIR`, default `.terraform` in
    /// the working directory Terraform started the provider in) and the
    /// selected workspace (`TF_WORKSPACE`, else `environment` in the data
    /// directory, else `default`).
    pub fn for_process() -> Journal {
        let data = std::env::var_os("TF_DATA_DIR")
            .map_or_else(|| PathBuf::from(".terraform"), PathBuf::from);
        let workspace = std::env::var("TF_WORKSPACE")
            .ok()
            .filter(|w| !w.trim().is_empty())
            .or_else(|| {
                std::fs::read_to_string(data.join("environment"))
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| "default".into());
        Journal::at(&data.join("nested-provider").join("inflight"), &workspace)
    }

    pub fn at(dir: &Path, workspace: &str) -> Journal {
        Journal {
            dir: dir.to_path_buf(),
            workspace: workspace.to_string(),
        }
    }

    pub fn workspace(&self) -> &str {
        &self.workspace
    }

    fn path(&self, instance: &str) -> PathBuf {
        // Instances are 32 hex digits: a safe file name.
        self.dir.join(format!("{instance}.json"))
    }

    /// Write (or replace) `record`, atomically.
    pub fn write(&self, record: &Record) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".{}.tmp", record.instance));
        std::fs::write(&tmp, serde_json::to_vec_pretty(record)?)?;
        std::fs::rename(&tmp, self.path(&record.instance))
    }

    /// Records of earlier creates of `cluster`/`name` in this workspace.
    pub fn find(&self, region: &str, cluster: &str, name: &str) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice::<Record>(&b).ok())
            .filter(|r| {
                r.region == region
                    && r.cluster == cluster
                    && r.name == name
                    && r.workspace == self.workspace
            })
            .collect()
    }

    /// Forget the record of `instance` (its create answered Terraform).
    pub fn remove(&self, instance: &str) {
        let path = self.path(instance);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove an in-flight create record");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(instance: &str, workspace: &str) -> Record {
        Record {
            region: "us-east-1".into(),
            cluster: "prod".into(),
            name: "agents".into(),
            workspace: workspace.into(),
            instance: instance.into(),
            launch_template_id: None,
        }
    }

    #[test]
    fn records_are_found_per_name_and_workspace_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path(), "default");
        assert!(j.find("us-east-1", "prod", "agents").is_empty());
        let a = "a".repeat(32);
        j.write(&record(&a, "default")).unwrap();
        let other = Journal::at(dir.path(), "staging");
        other.write(&record(&"b".repeat(32), "staging")).unwrap();
        let found = j.find("us-east-1", "prod", "agents");
        assert_eq!(found, vec![record(&a, "default")]);
        assert!(j.find("us-east-1", "prod", "other").is_empty());
        assert!(j.find("eu-west-1", "prod", "agents").is_empty());
        j.remove(&a);
        assert!(j.find("us-east-1", "prod", "agents").is_empty());
        assert_eq!(other.find("us-east-1", "prod", "agents").len(), 1);
        j.remove(&a); // twice is fine
    }
}

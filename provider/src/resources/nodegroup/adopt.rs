//! Adoption: importing a node group `nested_nodegroup` did not create
//! (the console, eksctl, `aws_eks_node_group`). It is safe where the node
//! group has a launch template: the first apply takes the template over
//! with a new version that keeps the rest of its content and holds the
//! bootstrap settings the sandbox needs, and tags the node group as this
//! resource instance's. Without a launch template there is nothing to take
//! over (EKS cannot give an existing node group one): the import is
//! refused with the way to migrate.
//!
//! One node group, one owner: nothing here can see another state, so the
//! import says how to release the node group there (a `removed` block)
//! before the first apply here.

use crate::aws::eks::Nodegroup;
use crate::framework::Diagnostic;

use super::import::ADOPTING;

/// The warning an adoption carries, or the error why it cannot be adopted.
pub fn adoption(cluster: &str, name: &str, ng: &Nodegroup) -> Result<Diagnostic, Diagnostic> {
    let Some(lt) = ng.launch_template_id.as_deref() else {
        return Err(Diagnostic::error(
            "Node group cannot be adopted",
            format!(
                "EKS Node Group {cluster}/{name} was not created by nested_nodegroup and has no \
                 launch template, so there is nowhere to put the bootstrap settings a sandbox \
                 needs (EKS cannot add a launch template to an existing node group), so \
                 nested_nodegroup cannot adopt it: an import of it (an `import` block's `to` \
                 address, `terraform import <address>`) is refused. Migrate instead: declare a \
                 nested_nodegroup under another name beside it, move the workloads, then \
                 delete the old node group where it is managed (for `aws_eks_node_group`, in \
                 its own configuration; to keep it running but unmanaged there, a `removed` \
                 block with `lifecycle {{ destroy = false }}`)."
            ),
        ));
    };
    Ok(Diagnostic::warning(
        ADOPTING,
        format!(
            "EKS Node Group {cluster}/{name} was not created by nested_nodegroup; the import's \
             `to` address adopts it. A node group must have one owner: if another \
             configuration manages it (`aws_eks_node_group`, terraform-aws-modules/eks), \
             release it there first without destroying it, with a \
             `removed {{ from = aws_eks_node_group.<name> lifecycle {{ destroy = false }} }}` \
             block applied in that configuration. The next apply here takes over its launch \
             template {lt} with a new version that keeps the rest of the template and adds \
             the bootstrap settings for `sandbox`, which rolls every node."
        ),
    ))
}

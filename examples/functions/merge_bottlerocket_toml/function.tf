# Merge a team's defaults with per-pool overrides; the base keeps its comments.
output "merged_user_data" {
  value = provider::nested::merge_bottlerocket_toml(
    file("${path.module}/defaults.toml"),
    <<-EOT
    [settings.kubernetes]
    max-pods = 58
    EOT
  )
}

# EKS-safe Bottlerocket TOML from an object of settings.
output "bottlerocket_user_data" {
  value = provider::nested::bottlerocket_settings({
    kernel = {
      sysctl = { "user.max_user_namespaces" = "65536" }
    }
    kubernetes = {
      ids-per-pod = 131072
    }
  })
}

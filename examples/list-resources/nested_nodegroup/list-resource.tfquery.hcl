# pools.tfquery.hcl — next to the configuration's provider "nested" block:
#   terraform query                                  # one line per node group
#   terraform query -generate-config-out=pools.tf    # import + resource blocks
list "nested_nodegroup" "pools" {
  provider         = nested
  include_resource = true
  limit            = 50

  config {
    cluster_name = "prod"
    sandbox      = "nsjail"
  }
}

import {
  to = nested_nodegroup.agents
  identity = {
    cluster_name = "prod"
    name         = "coder-agents"
  }
}

import {
  to = nested_nodegroup.agents
  id = "prod:coder-agents"
}

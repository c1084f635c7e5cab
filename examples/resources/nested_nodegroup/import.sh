# The ID is `cluster_name:name`.
terraform import nested_nodegroup.agents prod:coder-agents

# Lowest Linux release a sandbox can run on: "6.7" for landjail.
output "landjail_kernel_floor" {
  value = provider::nested::kernel_floor("landjail")
}

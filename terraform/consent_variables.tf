# Double opt-in (issue 32, docs/privacy.md).

variable "confirmation_ttl_hours" {
  description = "RESTOCK_CONFIRMATION_TTL_HOURS: hours a pending subscription waits for its confirmation, and its link works (more than 0, at most 720)."
  type        = number
  default     = 72

  validation {
    condition     = var.confirmation_ttl_hours > 0 && var.confirmation_ttl_hours <= 720
    error_message = "confirmation_ttl_hours must be more than 0 and at most 720."
  }
}

variable "confirmations_per_address" {
  description = "RESTOCK_CONFIRMATIONS_PER_ADDRESS: confirmation emails one address may receive per UTC day, whoever asks (1 to 100)."
  type        = number
  default     = 3

  validation {
    condition     = var.confirmations_per_address >= 1 && var.confirmations_per_address <= 100 && floor(var.confirmations_per_address) == var.confirmations_per_address
    error_message = "confirmations_per_address must be a whole number from 1 to 100."
  }
}

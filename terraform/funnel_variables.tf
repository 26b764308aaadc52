# What a restock sold (issue 34, docs/funnel.md).

variable "attribution_window_days" {
  description = "RESTOCK_ATTRIBUTION_WINDOW_DAYS: an order is credited to the latest notification of its product to its shopper sent this many days before it (1 to 365, at most ledger_ttl_days: the notifications it looks for live that long)."
  type        = number
  default     = 7

  validation {
    condition     = var.attribution_window_days >= 1 && var.attribution_window_days <= 365 && floor(var.attribution_window_days) == var.attribution_window_days
    error_message = "attribution_window_days must be a whole number of days from 1 to 365."
  }
}

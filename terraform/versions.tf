# Versions are pinned so that a plan made today means the same thing next month.
# Every resource argument used here exists in the schema of hashicorp/google
# 6.50.0 (checked against its published bindings). Commit the
# .terraform.lock.hcl that `terraform init` writes next to this file.
terraform {
  required_version = ">= 1.9.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = var.labels
}

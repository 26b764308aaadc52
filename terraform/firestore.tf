# The (default) Firestore database (lib/clients.ts opens the default one), the
# indexes the queries need, and the TTL that expires the delivery ledger.

resource "google_firestore_database" "default" {
  count = var.create_firestore_database ? 1 : 0

  project     = var.project_id
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # The database holds every subscription: never delete it with the stack.
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.enabled]
}

locals {
  firestore_database = "(default)"
}

# Delivery state counts (`restock status`) and redrive paging:
# deliveries where eventKey == X and state == / in ..., by document id.
resource "google_firestore_index" "deliveries_by_event_and_state" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# `restock status`: the oldest pending delivery of an event
# (eventKey == X, state in [...], order by createdAtMs).
resource "google_firestore_index" "deliveries_by_event_state_oldest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAtMs"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# `restock status`: the latest errors of an event
# (eventKey == X, state in [...], order by updatedAtMs desc).
resource "google_firestore_index" "deliveries_by_event_state_latest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "updatedAtMs"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# `restock trace`: deliveries where userId == X, newest first.
resource "google_firestore_index" "deliveries_by_user_newest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAtMs"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# `restock trace --product`: deliveries where userId == X and productId == Y, newest first.
resource "google_firestore_index" "deliveries_by_user_product_newest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "productId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAtMs"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# `restock trace --product`: the fan-outs of a product, newest first.
resource "google_firestore_index" "fanouts_by_product_newest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "fanouts"
  query_scope = "COLLECTION"

  fields {
    field_path = "productId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "startedAtMs"
    order      = "DESCENDING"
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# A shopper's subscriptions across products: the collection group
# restockSubscriptions where userId == X. Setting index_config replaces the
# automatic single-field indexes, so the collection-scope ones are kept too.
resource "google_firestore_field" "subscriptions_user_id" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "restockSubscriptions"
  field      = "userId"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# Ledger entries expire RESTOCK_LEDGER_TTL_DAYS after they are written
# (expireAt is set by the delivery code). The field is not queried, and an
# index on an ever-increasing timestamp only creates write hot-spots, so its
# single-field indexes are turned off.
resource "google_firestore_field" "deliveries_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = "expireAt"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

# Rejected events expire like the ledger (expireAt is set by the fan-out code):
# they may hold whatever a malformed message carried, so they are not kept forever.
resource "google_firestore_field" "rejected_events_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "rejectedEvents"
  field      = "expireAt"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

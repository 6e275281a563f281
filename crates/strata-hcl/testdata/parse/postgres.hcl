# A rich PostgreSQL schema: every block and attribute the parser reads.
variable "team_default" {
  type    = string
  default = "team"
}

locals {
  audit_schema = "app"
  statuses     = ["sad", "ok", "happy"]
}

schema "public" {
  comment = "standard public schema"
}

schema "app" {
  name    = local.audit_schema
  comment = "application side"
}

enum "mood" {
  schema = schema.public
  values = local.statuses
}

table "teams" {
  schema  = schema.public
  comment = "all teams"
  column "id" {
    null = false
    type = bigint
    identity {
      generated = ALWAYS
      start     = 10
      increment = 2
    }
  }
  column "name" {
    null    = false
    type    = varchar(50)
    default = var.team_default
    collate = "C"
    comment = "display name"
  }
  column "score" {
    null    = true
    type    = numeric(10, 2)
    default = 1.5
  }
  column "created" {
    type    = timestamptz
    default = sql("now()")
  }
  column "flags" {
    null = true
    type = sql("boolean[]")
  }
  column "doc" {
    null    = true
    type    = jsonb
    default = "{}"
  }
  primary_key {
    columns = [column.id]
  }
  index "teams_doc" {
    columns = [column.doc]
    type    = GIN
  }
  unique "teams_name_key" {
    columns = [column.name]
  }
  check "score_positive" {
    expr = "score >= 0"
  }
}

table "users" {
  schema = schema.public
  column "id" {
    type = serial
  }
  column "team_id" {
    null = true
    type = bigint
  }
  column "email" {
    type = text
  }
  column "mood" {
    null    = true
    type    = enum.mood
    default = "ok"
  }
  column "email_len" {
    null = true
    type = integer
    as   = "length(email)"
  }
  column "manager_id" {
    null = true
    type = int
  }
  column "d e" {
    null = true
    type = sql("character varying(36)[]")
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "users_team_id_fkey" {
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_delete   = CASCADE
    on_update   = NO_ACTION
  }
  foreign_key "users_manager" {
    columns     = [column.manager_id]
    ref_columns = [column.id]
    on_delete   = "SET NULL"
  }
  unique "users_email_key" {
    columns        = [column.email]
    include        = [column.mood]
    nulls_distinct = false
  }
  index "users_lower_email" {
    unique = true
    on {
      expr = "lower(email)"
      desc = true
    }
    where   = "email IS NOT NULL"
    comment = "case-insensitive"
  }
  index "users_email_pattern" {
    on {
      column = column.email
      ops    = text_pattern_ops
    }
    on {
      column = column.team_id
      desc   = true
    }
    include = [column.mood]
  }
  index "users_d_e" {
    columns = [column["d e"]]
  }
  check "email_has_at" {
    expr = "email LIKE '%@%'"
  }
}

table "audit" {
  schema = schema.app
  column "id" {
    type = bigint
  }
  column "user_id" {
    null = true
    type = integer
  }
  column "at" {
    null    = true
    type    = timestamp(3)
    default = sql("CURRENT_TIMESTAMP")
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "audit_user_id_fkey" {
    columns     = [column.user_id]
    ref_columns = [table.users.column.id]
  }
}

table "app" "users" {
  schema = schema.app
  column "id" {
    type = int
  }
  foreign_key "app_users_audit" {
    columns     = [column.id]
    ref_columns = [table.audit.column.id]
  }
}

view "team_users" {
  schema  = schema.public
  as      = "SELECT t.name, u.email FROM teams t JOIN users u ON u.team_id = t.id"
  comment = "who is where"
}

# for_each over a set and a map, with each.key / each.value in templates.
table "tenant" {
  for_each = toset(["t1", "t2"])
  name     = "${each.value}_settings"
  schema   = schema.public
  column "key" {
    type = text
  }
  column "value" {
    for_each = { a = "text", b = "integer" }
    name     = "v_${each.key}"
    null     = true
    type     = sql(each.value)
  }
}

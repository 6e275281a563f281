# A rich SQLite schema.
schema "main" {
}

table "teams" {
  schema = schema.main
  column "id" {
    null           = true
    type           = integer
    auto_increment = true
  }
  column "name" {
    type    = varchar(50)
    collate = "NOCASE"
    default = "team"
  }
  column "score" {
    null    = true
    type    = real
    default = 1.5
  }
  column "created" {
    null    = true
    type    = datetime
    default = sql("CURRENT_TIMESTAMP")
  }
  column "flag" {
    type    = boolean
    default = false
  }
  column "data" {
    null = true
    type = blob
  }
  column "odd" {
    null = true
    type = sql("USER_DEFINED")
  }
  primary_key {
    columns = [column.id]
  }
  index "teams_name" {
    unique  = true
    columns = [column.name]
  }
  check "score_positive" {
    expr = "score >= 0"
  }
}

table "users" {
  schema = schema.main
  column "id" {
    type = integer
  }
  column "team_id" {
    null = true
    type = integer
  }
  column "email" {
    type = text
  }
  column "lower_email" {
    null = true
    type = text
    as   = "lower(email)"
  }
  column "email_len" {
    null = true
    type = int
    as {
      expr = "length(email)"
      type = STORED
    }
  }
  primary_key {
    columns = [column.id]
  }
  foreign_key "0" {
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_delete   = CASCADE
    on_update   = SET_NULL
  }
  index "users_email" {
    unique = true
    on {
      column = column.email
      desc   = true
    }
    where = "email IS NOT NULL"
  }
  index "users_expr" {
    on {
      expr = "lower(email)"
    }
    on {
      column = column.team_id
      desc   = true
    }
  }
  check {
    expr = "email LIKE '%@%'"
  }
}

table "kv" {
  schema        = schema.main
  strict        = true
  without_rowid = true
  column "k" {
    type = text
  }
  column "v" {
    null = true
    type = sql("any")
  }
  primary_key {
    columns = [column.k]
  }
}

view "team_users" {
  schema = schema.main
  as     = "SELECT t.name, u.email FROM teams t JOIN users u ON u.team_id = t.id"
}

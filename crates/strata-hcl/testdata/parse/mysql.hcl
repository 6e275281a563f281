# A rich MySQL/MariaDB schema.
schema "app" {
  charset = "utf8mb4"
  collate = "utf8mb4_general_ci"
}

table "teams" {
  schema         = schema.app
  comment        = "all the teams"
  auto_increment = 100
  column "id" {
    type           = int
    auto_increment = true
  }
  column "name" {
    type    = varchar(50)
    default = "team"
    comment = "the name"
  }
  column "score" {
    null    = true
    type    = double
    default = 1.5
  }
  column "budget" {
    null    = true
    type    = decimal(10, 2)
    default = sql("(10 * 2)")
  }
  column "created" {
    type      = timestamp
    default   = sql("current_timestamp()")
    on_update = sql("current_timestamp()")
  }
  column "flag" {
    type    = bool
    default = false
  }
  column "status" {
    type    = enum("active", "it's")
    default = "active"
  }
  column "tags" {
    null = true
    type = set("x", "y")
  }
  column "latin" {
    null    = true
    type    = varchar(10)
    charset = "latin1"
    collate = "latin1_swedish_ci"
  }
  column "body" {
    null = true
    type = text
  }
  column "big" {
    null     = true
    type     = bigint
    unsigned = true
  }
  column "twice" {
    null = true
    type = int
    as {
      expr = "`id` * 2"
      type = VIRTUAL
    }
  }
  column "lower_name" {
    null = true
    type = varchar(50)
    as {
      expr = "lcase(`name`)"
      type = STORED
    }
  }
  primary_key {
    columns = [column.id]
  }
  index "name_u" {
    unique  = true
    columns = [column.name]
  }
  index "body_prefix" {
    on {
      column = column.body
      prefix = 10
      desc   = true
    }
    on {
      column = column.id
    }
  }
  index "body_ft" {
    columns = [column.body]
    type    = FULLTEXT
  }
  check "score_positive" {
    expr = "`score` >= 0"
  }
}

table "users" {
  schema  = schema.app
  charset = "latin1"
  collate = "latin1_swedish_ci"
  engine  = InnoDB
  column "id" {
    type = int
  }
  column "team_id" {
    null = true
    type = int
  }
  column "email" {
    type = varchar(100)
  }
  primary_key {
    columns = [column.id]
  }
  index "users_email" {
    columns = [column.email]
    comment = "lookups"
  }
  foreign_key "users_team" {
    columns     = [column.team_id]
    ref_columns = [table.teams.column.id]
    on_delete   = CASCADE
    on_update   = SET_NULL
  }
  check "users_chk_1" {
    expr     = "`email` like '%@%'"
    enforced = true
  }
}

view "team_names" {
  schema       = schema.app
  as           = "select `app`.`teams`.`id` AS `id` from `app`.`teams`"
  check_option = CASCADED
}

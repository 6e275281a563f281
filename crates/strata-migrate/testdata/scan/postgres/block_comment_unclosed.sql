SELECT 1;
/* An unclosed block comment is scanned as SQL; SELECT 2;

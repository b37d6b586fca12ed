-- Custom migration: events about public rules (program standards, emergency policies; scope
-- programs:read) reach every client whose jurisdiction the rule covers, not only clients above
-- it: a district office learns of the city's new policy. Other events stay visible only inside
-- the region they concern.
CREATE OR REPLACE FUNCTION event_visible(
  e_scope text, e_region text, e_audience uuid, c_id uuid, c_scopes text[], c_jurisdiction text
) RETURNS boolean AS $$
  SELECT e_scope = ANY (c_scopes)
     AND (starts_with(e_region, c_jurisdiction)
          OR (e_scope = 'programs:read' AND starts_with(c_jurisdiction, e_region)))
     AND (e_audience IS NULL OR e_audience = c_id);
$$ LANGUAGE sql IMMUTABLE;

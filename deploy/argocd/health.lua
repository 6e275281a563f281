-- Argo CD health check for db.atlasgo.io/AtlasMigration and db.atlasgo.io/AtlasSchema (operator-spec §13).
-- Install: resource.customizations.health.db.atlasgo.io_AtlasMigration and ..._AtlasSchema in argocd-cm (the same
-- script for both; see README.md).
-- Healthy when Ready is True; Progressing while deleting, before the operator has written a Ready condition,
-- while Ready's reason is Reconciling (every in-progress phase of the Strata operator) and while Reconciling is True
-- without Stalled (a transient failure being retried: database or registry unreachable); Degraded otherwise
-- (Stalled: a bad spec, a checksum mismatch, a failed statement, backoffLimit used up). The message is the Ready
-- reason. AtlasSchema also follows Argo CD's built-in rule: a Ready message of `Reconciling` or `GettingDevDB` (how
-- the Strata operator and the Atlas Operator write in-progress phases, approval pending included) is Progressing.
local hs = {}

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Pending deletion"
  if obj.metadata.finalizers ~= nil and #obj.metadata.finalizers > 0 then
    hs.message = "Pending deletion; blocked by finalizers: " .. table.concat(obj.metadata.finalizers, ", ")
  end
  return hs
end

local ready = nil
local retrying = false
local stalled = false
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Reconciling" then
      retrying = condition.status == "True"
    elseif condition.type == "Stalled" then
      stalled = condition.status == "True"
    end
  end
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for Atlas Operator"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.reason
  return hs
end

local schema_in_progress = obj.kind == "AtlasSchema"
  and (ready.message == "Reconciling" or ready.message == "GettingDevDB")
if ready.reason == "Reconciling" or schema_in_progress or (retrying and not stalled) then
  hs.status = "Progressing"
else
  hs.status = "Degraded"
end
hs.message = ready.reason
return hs

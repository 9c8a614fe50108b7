-- wrk script for the write benchmark: POST /trees/{id}/nodes with a new opportunity per
-- request. The parents come from BENCH_PARENTS, comma-separated node ids of the tree in
-- the URL, and the requests go round them in turn.
local parents = {}
for id in string.gmatch(os.getenv("BENCH_PARENTS") or "", "[^,]+") do
  parents[#parents + 1] = id
end
if #parents == 0 then
  error("BENCH_PARENTS is empty: set it to comma-separated node ids")
end

local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local parent = parents[(counter % #parents) + 1]
  local body = string.format(
    '{"parent_id":"%s","kind":"opportunity","title":"Load test write %d"}', parent, counter)
  return wrk.format(nil, nil, nil, body)
end

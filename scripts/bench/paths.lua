-- wrk script that sends GET requests to the paths listed in the file BENCH_PATHS_FILE, one
-- path per line, in turn. A list longer than the service's response cache measures requests
-- that the cache does not hold.
local paths = {}
local file = io.open(os.getenv("BENCH_PATHS_FILE") or "", "r")
if file == nil then
  error("BENCH_PATHS_FILE is not a readable file: set it to a file of request paths")
end
for line in file:lines() do
  if line ~= "" then
    paths[#paths + 1] = line
  end
end
file:close()
if #paths == 0 then
  error("BENCH_PATHS_FILE lists no paths")
end

local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

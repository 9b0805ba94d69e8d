-- drive.lua - one SMTP transaction through a milter (mxguard or opendmarc),
-- as an MTA would drive it, for the opendmarc tier. Environment:
--   SOCK       the milter's socket (inet:PORT@127.0.0.1)
--   MSG_IN     the message (CRLF; folded fields allowed)
--   CLIENT_IP  client address (only a milter macro: nothing is sent to it)
--   HELO       HELO name;  MAIL_FROM  envelope sender (without <>; "<>" for
--              the null sender)
--   QID        queue id, sent as macro {i} with MAIL FROM
-- Prints, after end of message:
--   REPLY:<the SMFIR code as a character>  (a = accept, c = continue,
--          r = reject, t = tempfail, y = reply code, ...)
--   AR:<value> for each Authentication-Results field the filter added or
--          inserted, first one first, folds turned into spaces
-- A refused step prints REPLY: and stops. mt.echo before failing:
-- miltertest does not print error() text.

local function die(why)
	mt.echo("drive: " .. why)
	error(why)
end

local function env(name)
	local v = os.getenv(name)
	if v == nil or v == "" then die("no " .. name) end
	return v
end

local f = io.open(env("MSG_IN"), "rb") or die("cannot open MSG_IN")
local msg = f:read("*a")
f:close()
local sep = msg:find("\r\n\r\n", 1, true) or die("no end of headers")
local head, body = msg:sub(1, sep + 1), msg:sub(sep + 4)

mt.set_timeout(30)
local conn = mt.connect(env("SOCK"), 40, 0.25) or die("cannot connect to " .. env("SOCK"))

-- step - one protocol step unless the filter negotiated it away; false
-- when the filter answered anything but continue (printed, session over)
local function step(opt, what, fn, ...)
	if opt ~= nil and mt.test_option(conn, opt) then return true end
	if fn(conn, ...) ~= nil then die(what) end
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then
		mt.echo("REPLY:" .. string.char(r))
		mt.echo("STEP:" .. what)
		mt.disconnect(conn)
		return false
	end
	return true
end

if not step(nil, "conninfo", mt.conninfo, "client.example.net", env("CLIENT_IP")) then return end
if not step(SMFIP_NOHELO, "helo", mt.helo, env("HELO")) then return end
mt.macro(conn, SMFIC_MAIL, "i", env("QID"))
-- MAIL_FROM "<>": the null sender
local mfrom = env("MAIL_FROM")
if mfrom ~= "<>" then mfrom = "<" .. mfrom .. ">" end
if not step(SMFIP_NOMAIL, "mailfrom", mt.mailfrom, mfrom) then return end
if not step(SMFIP_NORCPT, "rcptto", mt.rcptto, "<rcpt@rcpt.example.net>") then return end

-- fields: a line starting with white space continues the previous one
local fields, cur = {}, nil
for line in head:gmatch("(.-)\r\n") do
	if line:match("^[ \t]") and cur ~= nil then
		cur = cur .. "\r\n" .. line
	else
		if cur ~= nil then table.insert(fields, cur) end
		cur = line
	end
end
if cur ~= nil then table.insert(fields, cur) end
local leadspc = mt.test_option(conn, SMFIP_HDR_LEADSPC)
for _, fl in ipairs(fields) do
	local name, value = fl:match("^([^:]+):(.*)$")
	if name == nil then die("bad field " .. fl) end
	-- without SMFIP_HDR_LEADSPC the MTA drops the one space after the colon
	if not leadspc then value = value:gsub("^ ", "", 1) end
	if not step(SMFIP_NOHDRS, "header " .. name, mt.header, name, value) then return end
end
if not step(SMFIP_NOEOH, "eoh", mt.eoh) then return end
if not step(SMFIP_NOBODY, "body", mt.bodystring, body) then return end
if mt.eom(conn) ~= nil then die("eom") end
mt.echo("REPLY:" .. string.char(mt.getreply(conn)))
for n = 0, 9 do
	local ar = mt.getheader(conn, "Authentication-Results", n)
	if ar == nil then break end
	mt.echo("AR:" .. ar:gsub("\r?\n[ \t]*", " "))
end
mt.disconnect(conn)

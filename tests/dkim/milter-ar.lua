-- milter-ar.lua - send one message through the running mxguard daemon, as
-- an MTA would, and print what mxguard did at end of message:
--   REPLY:<SMFIR code as a character>
--   AR:<the Authentication-Results value it inserted> (or AR:none)
--   DELETED:yes|no   (it deleted an Authentication-Results header)
-- Environment: MXG_SOCKET (inet:PORT@127.0.0.1), MSG_IN (message file,
-- CRLF, folded fields allowed). mt.echo before failing: miltertest does
-- not print error() text.

local function die(why)
	mt.echo("milter-ar: " .. why)
	error(why)
end

local f = io.open(os.getenv("MSG_IN"), "rb") or die("cannot open MSG_IN")
local msg = f:read("*a")
f:close()
local sep = msg:find("\r\n\r\n", 1, true) or die("no end of headers")
local head, body = msg:sub(1, sep + 1), msg:sub(sep + 4)

local conn = mt.connect(os.getenv("MXG_SOCKET"), 40, 0.25) or die("cannot connect")

-- step - one protocol step unless the filter negotiated it away
local function step(opt, what, fn, ...)
	if opt ~= nil and mt.test_option(conn, opt) then return end
	if fn(conn, ...) ~= nil then die(what) end
end

step(nil, "conninfo", mt.conninfo, "client.example.net", "192.0.2.1")
step(SMFIP_NOHELO, "helo", mt.helo, "client.example.net")
mt.macro(conn, SMFIC_MAIL, "i", "MXGTEST1")
step(SMFIP_NOMAIL, "mailfrom", mt.mailfrom, "<alice@mail.example.test>")
step(SMFIP_NORCPT, "rcptto", mt.rcptto, "<bob@example.net>")

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
for _, fl in ipairs(fields) do
	local name, value = fl:match("^([^:]+):(.*)$")
	if name == nil then die("bad field " .. fl) end
	-- miltertest puts the space after the colon back itself when LEADSPC
	-- was negotiated, as an MTA that keeps it would send it
	value = value:gsub("^ ", "", 1)
	step(SMFIP_NOHDRS, "header " .. name, mt.header, name, value)
end
step(SMFIP_NOEOH, "eoh", mt.eoh)
step(SMFIP_NOBODY, "body", mt.bodystring, body)
if mt.eom(conn) ~= nil then die("eom") end
mt.echo("REPLY:" .. string.char(mt.getreply(conn)))
local ar = mt.getheader(conn, "Authentication-Results", 0)
mt.echo("AR:" .. (ar and ar:gsub("\r?\n", " ") or "none"))
mt.echo("DELETED:" .. (mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") and "yes" or "no"))
mt.disconnect(conn)

-- odk-sign.lua - have the opendkim milter sign a message, for the dkim tier.
-- Environment: ODK_SOCKET (inet:PORT@127.0.0.1), MSG_IN (message file,
-- CRLF). Prints the DKIM-Signature value opendkim added, as
-- "SIG:<value>" with its folds turned into "\n" (the caller rebuilds the
-- message). Fails loudly (mt.echo first: miltertest hides error() text).

local function die(why)
	mt.echo("odk-sign: " .. why)
	error(why)
end

local f = io.open(os.getenv("MSG_IN"), "rb") or die("cannot open MSG_IN")
local msg = f:read("*a")
f:close()
local sep = msg:find("\r\n\r\n", 1, true) or die("no end of headers")
local head, body = msg:sub(1, sep + 1), msg:sub(sep + 4)

local conn = mt.connect(os.getenv("ODK_SOCKET"), 40, 0.25) or die("cannot connect")
-- step - run one protocol step unless the filter negotiated it away
local function step(opt, what, f, ...)
	if opt ~= nil and mt.test_option(conn, opt) then return end
	if f(conn, ...) ~= nil then die(what) end
end

step(nil, "conninfo", mt.conninfo, "localhost", "127.0.0.1")
step(SMFIP_NOHELO, "helo", mt.helo, "localhost")
mt.macro(conn, SMFIC_MAIL, "i", "ODKTEST1")
step(SMFIP_NOMAIL, "mailfrom", mt.mailfrom, "alice@example.test")
step(SMFIP_NORCPT, "rcptto", mt.rcptto, "bob@example.net")
step(SMFIP_NODATA, "data", mt.data)

-- our test messages have one line per field: "Name: value"
for line in head:gmatch("(.-)\r\n") do
	local name, value = line:match("^([^:]+):%s?(.*)$")
	if name == nil then die("bad header line " .. line) end
	step(SMFIP_NOHDRS, "header " .. name, mt.header, name, value)
end
step(SMFIP_NOEOH, "eoh", mt.eoh)
step(SMFIP_NOBODY, "body", mt.bodystring, body)
step(nil, "eom", mt.eom)
if not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") and
   not mt.eom_check(conn, MT_HDRADD, "DKIM-Signature") then
	die("opendkim added no DKIM-Signature")
end
local sig = mt.getheader(conn, "DKIM-Signature", 0) or die("getheader")
mt.echo("SIG:" .. sig:gsub("\r?\n", "\\n"))
mt.disconnect(conn)

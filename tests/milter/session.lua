-- session.lua - one SMTP transaction against a running mxguard, as an MTA
-- would drive it (the metrics tier drives it too). Parameters come as
-- miltertest -D globals (strings):
--   sock        libmilter socket spec, e.g. inet:12345@127.0.0.1   (required)
--   ip, helo, from, rcpt                                            (required)
--   qid         queue id sent as macro {i} with MAIL FROM
--   auth        {auth_authen} sent with MAIL FROM
--   from_hdr    value of a From: header (default: none)
--   pause       seconds to sleep between MAIL FROM and RCPT TO
--   expect_connect, expect_mail, expect_rcpt, expect_eom
--               continue | replycode | accept | reject | tempfail | discard
--               (default continue); a refused MAIL or RCPT ends the session
--   expect_quarantine   "yes": end of message must ask for quarantine
--   msgfile     send this message's headers and body (CRLF file) instead
--               of the built-in Subject/body
--   forged_ar   value of an Authentication-Results header sent first
--   expect_insert       a header the filter must insert at end of message
--   expect_insert_match a Lua pattern the inserted header's value must match
--   expect_delete       a header the filter must delete at end of message
-- miltertest does not print error() text, so every failure is echoed first.

local replies = {
	continue = SMFIR_CONTINUE, replycode = SMFIR_REPLYCODE, accept = SMFIR_ACCEPT,
	reject = SMFIR_REJECT, tempfail = SMFIR_TEMPFAIL, discard = SMFIR_DISCARD,
}

local function fail(msg)
	mt.echo("FAIL: " .. msg)
	error(msg)
end

local function expect(conn, step, want)
	want = want or "continue"
	local got = mt.getreply(conn)
	if got ~= replies[want] then
		fail(step .. ": expected " .. want .. ", got reply code " .. tostring(got))
	end
	return want == "continue"
end

local conn = mt.connect(sock, 40, 0.25)
if conn == nil then fail("cannot connect to " .. sock) end
if mt.conninfo(conn, "client.test", ip) ~= nil then fail("conninfo") end
if not expect(conn, "connect", expect_connect) then mt.disconnect(conn) return end
if mt.helo(conn, helo) ~= nil then fail("helo") end

if auth ~= nil then
	mt.macro(conn, SMFIC_MAIL, "i", qid or "", "{auth_authen}", auth)
elseif qid ~= nil then
	mt.macro(conn, SMFIC_MAIL, "i", qid)
end
if mt.mailfrom(conn, from) ~= nil then fail("mailfrom") end
if not expect(conn, "MAIL FROM", expect_mail) then mt.disconnect(conn) return end

if pause ~= nil then mt.sleep(tonumber(pause)) end
if mt.rcptto(conn, rcpt) ~= nil then fail("rcptto") end
if not expect(conn, "RCPT TO", expect_rcpt) then mt.disconnect(conn) return end

-- With SMFIP_HDR_LEADSPC the MTA passes the value exactly as after the
-- colon; without it, one leading space is dropped.
local leadspc = mt.test_option(conn, SMFIP_HDR_LEADSPC)
local function header(name, value)
	if not leadspc then value = string.gsub(value, "^ ", "", 1) end
	if mt.header(conn, name, value) ~= nil then fail("header " .. name) end
end

local function send_file(path)
	local f = io.open(path, "rb")
	if f == nil then fail("cannot open " .. path) end
	local text = f:read("*a")
	f:close()
	local head, body = string.match(text, "^(.-)\r\n\r\n(.*)$")
	if head == nil then fail(path .. ": no empty line after the headers") end
	-- unfold into (name, value) pairs, keeping the folds as CRLF + space
	local fields = {}
	for line in string.gmatch(head .. "\r\n", "(.-)\r\n") do
		if string.match(line, "^[ \t]") and #fields > 0 then
			fields[#fields] = fields[#fields] .. "\r\n" .. line
		else
			fields[#fields + 1] = line
		end
	end
	for _, field in ipairs(fields) do
		local name, value = string.match(field, "^([^:]+):(.*)$")
		if name == nil then fail("bad header line: " .. field) end
		header(name, value)
	end
	if mt.eoh(conn) ~= nil then fail("eoh") end
	if mt.bodystring(conn, body) ~= nil then fail("body") end
end

if forged_ar ~= nil then header("Authentication-Results", " " .. forged_ar) end
if msgfile ~= nil then
	send_file(msgfile)
else
	if from_hdr ~= nil then header("From", " " .. from_hdr) end
	header("Subject", " milter tier test")
	if mt.eoh(conn) ~= nil then fail("eoh") end
	if mt.bodystring(conn, "hello\r\n") ~= nil then fail("body") end
end
if mt.eom(conn) ~= nil then fail("eom") end
expect(conn, "end of message", expect_eom)
if expect_quarantine == "yes" and not mt.eom_check(conn, MT_QUARANTINE) then
	fail("end of message: no quarantine requested")
end
if expect_insert ~= nil then
	if not mt.eom_check(conn, MT_HDRINSERT, expect_insert) then
		fail("end of message: no " .. expect_insert .. " header inserted")
	end
	local v = mt.getheader(conn, expect_insert, 0)
	if expect_insert_match ~= nil and (v == nil or not string.find(v, expect_insert_match)) then
		fail("end of message: " .. expect_insert .. " is '" .. tostring(v) ..
		     "', want a match for " .. expect_insert_match)
	end
end
if expect_delete ~= nil and not mt.eom_check(conn, MT_HDRDELETE, expect_delete) then
	fail("end of message: " .. expect_delete .. " was not deleted")
end
mt.disconnect(conn)

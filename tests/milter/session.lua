-- session.lua - one SMTP transaction against a running mxguard, as an MTA
-- would drive it. Parameters come as miltertest -D globals (strings):
--   sock        libmilter socket spec, e.g. inet:12345@127.0.0.1   (required)
--   ip, helo, from, rcpt                                            (required)
--   qid         queue id sent as macro {i} with MAIL FROM
--   auth        {auth_authen} sent with MAIL FROM
--   from_hdr    value of a From: header (default: none)
--   expect_mail, expect_rcpt, expect_eom
--               continue | replycode | accept | reject | tempfail | discard
--               (default continue); a refused MAIL or RCPT ends the session
--   expect_quarantine   "yes": end of message must ask for quarantine
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
if mt.helo(conn, helo) ~= nil then fail("helo") end

if auth ~= nil then
	mt.macro(conn, SMFIC_MAIL, "i", qid or "", "{auth_authen}", auth)
elseif qid ~= nil then
	mt.macro(conn, SMFIC_MAIL, "i", qid)
end
if mt.mailfrom(conn, from) ~= nil then fail("mailfrom") end
if not expect(conn, "MAIL FROM", expect_mail) then mt.disconnect(conn) return end

if mt.rcptto(conn, rcpt) ~= nil then fail("rcptto") end
if not expect(conn, "RCPT TO", expect_rcpt) then mt.disconnect(conn) return end

if from_hdr ~= nil then
	if mt.header(conn, "From", from_hdr) ~= nil then fail("header") end
end
if mt.header(conn, "Subject", "milter tier test") ~= nil then fail("header") end
if mt.eoh(conn) ~= nil then fail("eoh") end
if mt.bodystring(conn, "hello\r\n") ~= nil then fail("body") end
if mt.eom(conn) ~= nil then fail("eom") end
expect(conn, "end of message", expect_eom)
if expect_quarantine == "yes" and not mt.eom_check(conn, MT_QUARANTINE) then
	fail("end of message: no quarantine requested")
end
mt.disconnect(conn)

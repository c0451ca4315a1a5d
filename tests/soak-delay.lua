-- wrk script for tests/soak.sh: each connection waits 1 ms between requests,
-- so the load is steady (about 4,000 requests/s on 4 connections) and a
-- sanitizer build of the sensor can keep up with it.
function delay()
	return 1
end

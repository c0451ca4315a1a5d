#!/usr/bin/perl
# MySQL/MariaDB traffic for tests/pcaps/make-mysql.sh through DBD::MariaDB
# (libmariadb), one connection per mode, over TCP to 127.0.0.1:PORT as user
# xb (password xbpass) in database xb:
#   text      COM_QUERY: INSERTs (insert_id), UPDATE (affected rows), SELECT
#             with NULLs, commas and quotes (CSV), an unknown table (ERR),
#             a 20000-byte value, a multi-statement query (two results and
#             an OK), COM_PING
#   prepare   mariadb_server_prepare=1: COM_STMT_PREPARE / EXECUTE / CLOSE,
#             parameters of several types bound as integers, doubles,
#             strings and NULL, executed twice (types resent), a statement
#             that fails at EXECUTE, a result set in the binary protocol
#   slap      N simple prepared SELECTs and INSERTs (benchmark load)
# Usage: mysql-client.pl MODE PORT [N]
use strict;
use warnings;
use DBI qw(:sql_types);

my ($mode, $port, $n) = @ARGV;
die "usage: $0 text|prepare|slap PORT [N]\n" unless $mode && $port;
my $prep = $mode eq 'text' ? 0 : 1;
my $dbh = DBI->connect("DBI:MariaDB:database=xb;host=127.0.0.1;port=$port;mariadb_server_prepare=$prep;"
		       . "mariadb_multi_statements=" . ($mode eq 'text' ? 1 : 0),
		       'xb', 'xbpass', { RaiseError => 0, PrintError => 0, AutoCommit => 1 })
    or die "connect: $DBI::errstr\n";

if ($mode eq 'text') {
	$dbh->do("INSERT INTO people (name, score, born) VALUES ('Ada', 36.5, '1815-12-10')");
	$dbh->do("INSERT INTO people (name, score, born) VALUES ('Bob, \"the builder\"', NULL, NULL)");
	$dbh->do("UPDATE people SET score = score + 1 WHERE score IS NOT NULL");
	my $rows = $dbh->selectall_arrayref("SELECT id, name, score, born FROM people ORDER BY id");
	$dbh->selectall_arrayref("SELECT * FROM missing_table");
	$dbh->do("INSERT INTO notes (body) VALUES (REPEAT('x', 20000))");
	$dbh->selectall_arrayref("SELECT LENGTH(body), body FROM notes");
	my $sth = $dbh->prepare("SELECT 1 AS one; SELECT name FROM people WHERE id = 1; DELETE FROM notes");
	$sth->execute;
	do { $sth->fetchall_arrayref } while ($sth->more_results);
	$dbh->ping;
} elsif ($mode eq 'prepare') {
	my $ins = $dbh->prepare("INSERT INTO people (name, score, born, at) VALUES (?, ?, ?, ?)");
	$ins->bind_param(1, 'Cy', SQL_VARCHAR);
	$ins->bind_param(2, 2.25, SQL_DOUBLE);
	$ins->bind_param(3, '2001-02-03', SQL_VARCHAR);
	$ins->bind_param(4, undef, SQL_VARCHAR);
	$ins->execute;
	$ins->execute('Dee', -7, '1999-12-31', '2020-01-02 03:04:05');
	my $sel = $dbh->prepare("SELECT id, name, score, born, at FROM people WHERE id > ? AND name <> ?");
	$sel->bind_param(1, 1, SQL_INTEGER);
	$sel->bind_param(2, 'nobody', SQL_VARCHAR);
	$sel->execute;
	$sel->fetchall_arrayref;
	$sel->execute(3, 'Ada');
	$sel->fetchall_arrayref;
	$sel->finish;
	my $bad = $dbh->prepare("INSERT INTO people (id, name) VALUES (?, ?)");
	$bad->execute(1, 'duplicate');
	$dbh->prepare("SELECT nothing FROM nowhere");
	undef $ins;
	undef $sel;
	undef $bad;
} elsif ($mode eq 'slap') {
	my $sel = $dbh->prepare("SELECT id, name FROM people WHERE id = ?");
	for my $i (1 .. $n) {
		$sel->execute($i % 4 + 1);
		$sel->fetchall_arrayref;
	}
}
$dbh->disconnect;

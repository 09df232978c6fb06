//! Isolated MySQL databases for tests: `CREATE DATABASE` per test, dropped afterwards.

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use triglot_core::testing::{Isolated, TestBackend};
use triglot_core::{DatabaseUrl, Error, Result};

use crate::MysqlDialect;

impl TestBackend for MysqlDialect {
    const FEATURE: &'static str = "mysql";
    const TEST_URL_ENV: Option<&'static str> = Some("TRIGLOT_TEST_MYSQL_URL");
    const TEST_URL_DEFAULT: &'static str = "mysql://root@127.0.0.1:3306/test";
    const START_HINT: &'static str = "Start MariaDB with `bash scripts/services.sh` (or `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`).";

    fn create_isolated(server_url: &str, name: &str) -> Result<Isolated> {
        let server = DatabaseUrl::parse(server_url)?;
        let admin = crate::session::connect_target(&server)?.connection_string;
        let mut conn = connect(&server, &admin)?;
        conn.batch_execute(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .map_err(|e| open_error(&server, e.to_string()))?;
        let mut url = url::Url::parse(&admin).map_err(|e| open_error(&server, e.to_string()))?;
        url.set_path(name);
        Ok(Isolated {
            url: url.to_string(),
            guard: Box::new(DropDatabase { server, admin, name: name.to_owned() }),
        })
    }
}

fn connect(server: &DatabaseUrl, admin: &str) -> Result<MysqlConnection> {
    MysqlConnection::establish(admin).map_err(|e| open_error(server, e.to_string()))
}

fn open_error(server: &DatabaseUrl, reason: String) -> Error {
    Error::Open { backend: "MySQL", url: server.to_string(), reason: server.scrub(&reason) }
}

/// Drops the test database when the test ends, also by panic.
struct DropDatabase {
    server: DatabaseUrl,
    admin: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let dropped = connect(&self.server, &self.admin).and_then(|mut conn| {
            conn.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name))
                .map_err(|e| open_error(&self.server, e.to_string()))
        });
        if let Err(err) = dropped {
            eprintln!("could not drop test database {}: {err}", self.name);
        }
    }
}

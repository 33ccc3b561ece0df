package main

// The connector classes this build carries register themselves here.
import (
	_ "github.com/sluice-cdc/sluice/connectors/elasticsearch"
	_ "github.com/sluice-cdc/sluice/connectors/mysql"
	_ "github.com/sluice-cdc/sluice/connectors/postgres"
	_ "github.com/sluice-cdc/sluice/connectors/sse"
)

-- Run by the postgres image once, when it initialises an empty data volume: the schema
-- registry keeps its schemas in a database of its own, apart from the services' data.
create database apicurio_registry;

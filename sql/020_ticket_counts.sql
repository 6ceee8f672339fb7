-- 020: ticket counts per tenant, status and priority (issue 13; the total of
-- GET /tickets filtered by status and/or priority, mod_callcenter/cc_tickets.c).
-- Forward-only.
--
-- A page of a filtered list reads 20 index entries; its exact total would count every
-- match (thousands of index entries per request, most of a request's cost at the rate
-- the list is asked for).  These rows are kept by the triggers below, whatever
-- statement writes a ticket, so the total is one short index range (at most 24 rows a
-- tenant).  A change of a ticket's status or priority moves its count between two rows,
-- locked in key order so that two tickets moving opposite ways cannot deadlock.
CREATE TABLE ticket_counts (
    tenant_id   CHAR(36)        NOT NULL,
    status      ENUM('new','open','pending','on_hold','solved','closed') NOT NULL,
    priority    ENUM('low','normal','high','urgent') NOT NULL,
    n           BIGINT          NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, status, priority)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO ticket_counts (tenant_id, status, priority, n)
    SELECT tenant_id, status, priority, COUNT(*) FROM tickets
    GROUP BY tenant_id, status, priority;

DELIMITER //
CREATE TRIGGER trg_tickets_count_insert AFTER INSERT ON tickets FOR EACH ROW
BEGIN
    INSERT INTO ticket_counts (tenant_id, status, priority, n)
    VALUES (NEW.tenant_id, NEW.status, NEW.priority, 1)
    ON DUPLICATE KEY UPDATE n = n + 1;
END//
CREATE TRIGGER trg_tickets_count_update AFTER UPDATE ON tickets FOR EACH ROW
BEGIN
    IF OLD.status <> NEW.status OR OLD.priority <> NEW.priority THEN
        IF (OLD.status + 0) * 10 + (OLD.priority + 0)
           < (NEW.status + 0) * 10 + (NEW.priority + 0) THEN
            UPDATE ticket_counts SET n = n - 1
            WHERE tenant_id = OLD.tenant_id AND status = OLD.status
              AND priority = OLD.priority;
            INSERT INTO ticket_counts (tenant_id, status, priority, n)
            VALUES (NEW.tenant_id, NEW.status, NEW.priority, 1)
            ON DUPLICATE KEY UPDATE n = n + 1;
        ELSE
            INSERT INTO ticket_counts (tenant_id, status, priority, n)
            VALUES (NEW.tenant_id, NEW.status, NEW.priority, 1)
            ON DUPLICATE KEY UPDATE n = n + 1;
            UPDATE ticket_counts SET n = n - 1
            WHERE tenant_id = OLD.tenant_id AND status = OLD.status
              AND priority = OLD.priority;
        END IF;
    END IF;
END//
CREATE TRIGGER trg_tickets_count_delete AFTER DELETE ON tickets FOR EACH ROW
BEGIN
    UPDATE ticket_counts SET n = n - 1
    WHERE tenant_id = OLD.tenant_id AND status = OLD.status AND priority = OLD.priority;
END//
DELIMITER ;

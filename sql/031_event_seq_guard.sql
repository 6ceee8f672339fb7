-- 031: the event trigger refuses to number an event when the counter row is missing.
-- Forward-only.
--
-- sql/029's trigger reads its number back through LAST_INSERT_ID(n + 1).  Without the
-- event_seq row (sql/026 inserts it; nothing deletes it) the UPDATE changes nothing and
-- LAST_INSERT_ID() would still hold an earlier value: a stale or repeated id.  Now the
-- insert fails instead (SQLSTATE 45000, answered 500 and logged).  After an UPDATE,
-- ROW_COUNT() is the rows it changed, and n + 1 always changes the row, so a present row
-- gives 1 however the client counts found rows.
DROP TRIGGER trg_events_number;

DELIMITER //

CREATE TRIGGER trg_events_number BEFORE INSERT ON events FOR EACH ROW
BEGIN
    UPDATE event_seq SET n = LAST_INSERT_ID(n + 1) WHERE id = 1;
    IF ROW_COUNT() <> 1 THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'event_seq has no row 1';
    END IF;
    SET NEW.id = LAST_INSERT_ID();
END //

DELIMITER ;

-- 025: a contact's and a ticket's tag names kept on their row (issue 13, the ticket list).
-- Forward-only.
--
-- A page of tickets or contacts showed each row's tags with a subquery per row (tag links
-- joined to tags, GROUP_CONCAT).  MariaDB optimizes a prepared statement again at every
-- execution, and that subquery was 40% of a filtered ticket page's time in the server
-- (360 -> 220 us per execution, 1,000-run loops on make bench's 200,000 tickets).  As
-- users.role_names is kept from user_roles (sql/001), tag_names is kept by triggers: the
-- names in the tags' order, comma-separated ('' without tags; a tag name has no comma,
-- cc_helpdesk_rules.c).  The link tables stay the truth (the tag filter reads them).
--
-- What changes a row's names: a link added or removed (the triggers on contact_tags and
-- ticket_tags), a tag renamed (on tags, after the update: a change of case included, so
-- the comparison is binary), a tag deleted (on tags, before the delete: its links go by
-- the foreign keys' cascade, which fires no trigger, so the names are written without
-- it first).  A contact or ticket deleted takes its links and its names with it.  At most
-- 50 tags of at most 50 characters (CC_TAGS_MAX, CC_TAG_NAME_MAX): 2,549 characters.  The
-- names are made by one function per object type (cc_contact_tag_names,
-- cc_ticket_tag_names), which every trigger calls.

ALTER TABLE contacts ADD COLUMN tag_names VARCHAR(2600) NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN tag_names VARCHAR(2600) NOT NULL DEFAULT '';

DELIMITER //

-- An object's tag names as the API shows them: its tags' names in their order, comma-
-- separated, '' without tags; p_except (or NULL) is a tag left out (one being deleted).
CREATE FUNCTION cc_contact_tag_names(p_contact BIGINT UNSIGNED, p_except BIGINT UNSIGNED)
    RETURNS VARCHAR(2600) READS SQL DATA
    RETURN COALESCE((SELECT GROUP_CONCAT(tg.name ORDER BY tg.name SEPARATOR ',')
                       FROM contact_tags lk
                       JOIN tags tg ON tg.id = lk.tag_id AND tg.tenant_id = lk.tenant_id
                      WHERE lk.contact_id = p_contact
                        AND (p_except IS NULL OR lk.tag_id <> p_except)), '') //

CREATE FUNCTION cc_ticket_tag_names(p_ticket BIGINT UNSIGNED, p_except BIGINT UNSIGNED)
    RETURNS VARCHAR(2600) READS SQL DATA
    RETURN COALESCE((SELECT GROUP_CONCAT(tg.name ORDER BY tg.name SEPARATOR ',')
                       FROM ticket_tags lk
                       JOIN tags tg ON tg.id = lk.tag_id AND tg.tenant_id = lk.tenant_id
                      WHERE lk.ticket_id = p_ticket
                        AND (p_except IS NULL OR lk.tag_id <> p_except)), '') //

DELIMITER ;

UPDATE contacts c SET c.tag_names = cc_contact_tag_names(c.id, NULL)
 WHERE EXISTS (SELECT 1 FROM contact_tags lk WHERE lk.contact_id = c.id);
UPDATE tickets t SET t.tag_names = cc_ticket_tag_names(t.id, NULL)
 WHERE EXISTS (SELECT 1 FROM ticket_tags lk WHERE lk.ticket_id = t.id);

CREATE TRIGGER trg_contact_tags_insert AFTER INSERT ON contact_tags FOR EACH ROW
    UPDATE contacts SET tag_names = cc_contact_tag_names(NEW.contact_id, NULL)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.contact_id;

CREATE TRIGGER trg_contact_tags_delete AFTER DELETE ON contact_tags FOR EACH ROW
    UPDATE contacts SET tag_names = cc_contact_tag_names(OLD.contact_id, NULL)
    WHERE tenant_id = OLD.tenant_id AND id = OLD.contact_id;

CREATE TRIGGER trg_ticket_tags_insert AFTER INSERT ON ticket_tags FOR EACH ROW
    UPDATE tickets SET tag_names = cc_ticket_tag_names(NEW.ticket_id, NULL)
    WHERE tenant_id = NEW.tenant_id AND id = NEW.ticket_id;

CREATE TRIGGER trg_ticket_tags_delete AFTER DELETE ON ticket_tags FOR EACH ROW
    UPDATE tickets SET tag_names = cc_ticket_tag_names(OLD.ticket_id, NULL)
    WHERE tenant_id = OLD.tenant_id AND id = OLD.ticket_id;

DELIMITER //

CREATE TRIGGER trg_tags_rename AFTER UPDATE ON tags FOR EACH ROW
BEGIN
    IF CAST(NEW.name AS BINARY) <> CAST(OLD.name AS BINARY) THEN
        UPDATE contacts c JOIN contact_tags l ON l.contact_id = c.id AND l.tag_id = NEW.id
           SET c.tag_names = cc_contact_tag_names(c.id, NULL)
         WHERE c.tenant_id = NEW.tenant_id;
        UPDATE tickets t JOIN ticket_tags l ON l.ticket_id = t.id AND l.tag_id = NEW.id
           SET t.tag_names = cc_ticket_tag_names(t.id, NULL)
         WHERE t.tenant_id = NEW.tenant_id;
    END IF;
END //

CREATE TRIGGER trg_tags_delete BEFORE DELETE ON tags FOR EACH ROW
BEGIN
    UPDATE contacts c JOIN contact_tags l ON l.contact_id = c.id AND l.tag_id = OLD.id
       SET c.tag_names = cc_contact_tag_names(c.id, OLD.id)
     WHERE c.tenant_id = OLD.tenant_id;
    UPDATE tickets t JOIN ticket_tags l ON l.ticket_id = t.id AND l.tag_id = OLD.id
       SET t.tag_names = cc_ticket_tag_names(t.id, OLD.id)
     WHERE t.tenant_id = OLD.tenant_id;
END //

DELIMITER ;

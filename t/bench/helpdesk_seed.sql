-- make bench: the helpdesk of bench-1 (issue 13).  Set by bench.sh: @contacts (how many
-- contacts, default 100,000) and @tickets (how many tickets, default 200,000).
-- Contacts get varied names (some non-ASCII, hyphens, apostrophes, middle initials),
-- companies (~1,400), emails at company or mail-provider domains and E.164 phones of ten
-- countries; their search terms (contact_terms) are written as shared/cc_search.c
-- writes them (bench.sh checks that against contacts created through the API).  20 tags
-- on a third of the contacts; tickets over a year (number = creation order), spread over
-- statuses, priorities, channels, 60 agents and the contacts (some contacts have many),
-- with the SLA policies' due times and breaches; ticket_counters at the last number.
-- Choices come from CRC32 of the row number: the same rows on every run.  MariaDB's
-- SEQUENCE engine makes the rows.
SELECT id INTO @t FROM tenants WHERE slug = 'bench-1';

-- The word lists.  Non-ASCII letters only lowercase ones (the terms lowercase ASCII
-- letters only, as LOWER() does to these names); slug: the ASCII form for emails.
CREATE TEMPORARY TABLE hd_first (n INT AUTO_INCREMENT PRIMARY KEY, w VARCHAR(40), slug VARCHAR(40));
INSERT INTO hd_first (w, slug) VALUES
 ('James',NULL),('Mary',NULL),('John',NULL),('Patricia',NULL),('Robert',NULL),('Jennifer',NULL),
 ('Michael',NULL),('Linda',NULL),('William',NULL),('Elizabeth',NULL),('David',NULL),('Barbara',NULL),
 ('Richard',NULL),('Susan',NULL),('Joseph',NULL),('Jessica',NULL),('Thomas',NULL),('Sarah',NULL),
 ('Charles',NULL),('Karen',NULL),('Daniel',NULL),('Nancy',NULL),('Matthew',NULL),('Lisa',NULL),
 ('Anthony',NULL),('Betty',NULL),('Mark',NULL),('Margaret',NULL),('Steven',NULL),('Sandra',NULL),
 ('Paul',NULL),('Ashley',NULL),('Andrew',NULL),('Emily',NULL),('Joshua',NULL),('Michelle',NULL),
 ('Kevin',NULL),('Amanda',NULL),('Brian',NULL),('Melissa',NULL),('George',NULL),('Stephanie',NULL),
 ('Edward',NULL),('Rebecca',NULL),('Ronald',NULL),('Laura',NULL),('Timothy',NULL),('Sharon',NULL),
 ('Jason',NULL),('Cynthia',NULL),('Jeffrey',NULL),('Kathleen',NULL),('Ryan',NULL),('Amy',NULL),
 ('Jacob',NULL),('Angela',NULL),('Gary',NULL),('Shirley',NULL),('Nicholas',NULL),('Anna',NULL),
 ('Eric',NULL),('Brenda',NULL),('Jonathan',NULL),('Pamela',NULL),('Stephen',NULL),('Emma',NULL),
 ('Larry',NULL),('Nicole',NULL),('Justin',NULL),('Helen',NULL),('Scott',NULL),('Samantha',NULL),
 ('Lukas',NULL),('Hannah',NULL),('Felix',NULL),('Lena',NULL),('Maximilian',NULL),('Sophie',NULL),
 ('Jürgen','juergen'),('Björn','bjoern'),('Sören','soeren'),('Jörg','joerg'),('Käthe','kaethe'),
 ('José','jose'),('María','maria'),('Ramón','ramon'),('Inés','ines'),('Sebastián','sebastian'),
 ('François','francois'),('Hélène','helene'),('Jérôme','jerome'),('Chloé','chloe'),
 ('Anne-Marie','annemarie'),('Jean-Luc','jeanluc'),('Karl-Heinz','karlheinz'),
 ('Giulia',NULL),('Matteo',NULL),('Lorenzo',NULL),('Chiara',NULL),('Sven',NULL),('Astrid',NULL),
 ('Lars',NULL),('Ingrid',NULL),('Pieter',NULL),('Sanne',NULL),('Bram',NULL),('Priya',NULL),
 ('Rahul',NULL),('Wei',NULL),('Mei',NULL),('Hiroshi',NULL),('Yuki',NULL),('Kenji',NULL),
 ('Olumide',NULL),('Amara',NULL),('Tariq',NULL),('Fatima',NULL),('Omar',NULL),('Leila',NULL),
 ('Zoë','zoe'),('Noémie','noemie');
CREATE TEMPORARY TABLE hd_last (n INT AUTO_INCREMENT PRIMARY KEY, w VARCHAR(40), slug VARCHAR(40));
INSERT INTO hd_last (w, slug) VALUES
 ('Smith',NULL),('Johnson',NULL),('Williams',NULL),('Brown',NULL),('Jones',NULL),('Garcia',NULL),
 ('Miller',NULL),('Davis',NULL),('Rodriguez',NULL),('Martinez',NULL),('Hernandez',NULL),
 ('Lopez',NULL),('Gonzalez',NULL),('Wilson',NULL),('Anderson',NULL),('Thomas',NULL),
 ('Taylor',NULL),('Moore',NULL),('Jackson',NULL),('Martin',NULL),('Lee',NULL),('Perez',NULL),
 ('Thompson',NULL),('White',NULL),('Harris',NULL),('Sanchez',NULL),('Clark',NULL),
 ('Ramirez',NULL),('Lewis',NULL),('Robinson',NULL),('Walker',NULL),('Young',NULL),('Allen',NULL),
 ('King',NULL),('Wright',NULL),('Scott',NULL),('Torres',NULL),('Nguyen',NULL),('Hill',NULL),
 ('Flores',NULL),('Green',NULL),('Adams',NULL),('Nelson',NULL),('Baker',NULL),('Hall',NULL),
 ('Rivera',NULL),('Campbell',NULL),('Mitchell',NULL),('Carter',NULL),('Roberts',NULL),
 ('Gomez',NULL),('Phillips',NULL),('Evans',NULL),('Turner',NULL),('Diaz',NULL),('Parker',NULL),
 ('Cruz',NULL),('Edwards',NULL),('Collins',NULL),('Reyes',NULL),('Stewart',NULL),('Morris',NULL),
 ('Morales',NULL),('Murphy',NULL),('Cook',NULL),('Rogers',NULL),('Gutierrez',NULL),('Ortiz',NULL),
 ('Morgan',NULL),('Cooper',NULL),('Peterson',NULL),('Bailey',NULL),('Reed',NULL),('Kelly',NULL),
 ('Howard',NULL),('Ramos',NULL),('Kim',NULL),('Cox',NULL),('Ward',NULL),('Richardson',NULL),
 ('Watson',NULL),('Brooks',NULL),('Chavez',NULL),('Wood',NULL),('James',NULL),('Bennett',NULL),
 ('Gray',NULL),('Mendoza',NULL),('Ruiz',NULL),('Hughes',NULL),('Price',NULL),('Alvarez',NULL),
 ('Castillo',NULL),('Sanders',NULL),('Patel',NULL),('Myers',NULL),('Long',NULL),('Ross',NULL),
 ('Foster',NULL),('Jimenez',NULL),('Powell',NULL),('Jenkins',NULL),('Perry',NULL),('Russell',NULL),
 ('Sullivan',NULL),('Bell',NULL),('Coleman',NULL),('Butler',NULL),('Henderson',NULL),
 ('Barnes',NULL),('Fisher',NULL),('Vasquez',NULL),('Simmons',NULL),('Marshall',NULL),
 ('Mueller',NULL),('Schmidt',NULL),('Schneider',NULL),('Fischer',NULL),('Weber',NULL),
 ('Meyer',NULL),('Wagner',NULL),('Becker',NULL),('Schulz',NULL),('Hoffmann',NULL),
 ('Müller','mueller'),('Schäfer','schaefer'),('Köhler','koehler'),('Groß','gross'),
 ('Krüger','krueger'),('Weiß','weiss'),('Bäcker','baecker'),
 ('García','garcia'),('Fernández','fernandez'),('González','gonzalez'),('Martín','martin'),
 ('Muñoz','munoz'),('Gómez','gomez'),('Peña','pena'),
 ('Dubois',NULL),('Lefèvre','lefevre'),('Moreau',NULL),('Laurent',NULL),('Girard',NULL),
 ('Rossi',NULL),('Russo',NULL),('Ferrari',NULL),('Esposito',NULL),('Bianchi',NULL),
 ('Romano',NULL),('Colombo',NULL),('Ricci',NULL),('Marino',NULL),('Greco',NULL),
 ('Andersson',NULL),('Johansson',NULL),('Karlsson',NULL),('Nilsson',NULL),('Eriksson',NULL),
 ('Larsson',NULL),('Olsson',NULL),('Persson',NULL),('Jansen',NULL),('Visser',NULL),
 ('van der Berg','vandenberg'),('de Vries','devries'),('van Dijk','vandijk'),('Bakker',NULL),
 ('O''Brien','obrien'),('O''Connor','oconnor'),('O''Neill','oneill'),('McCarthy',NULL),
 ('MacDonald',NULL),('Smith-Jones','smithjones'),('Lloyd-Webber','lloydwebber'),
 ('Kowalski',NULL),('Nowak',NULL),('Wiśniewski','wisniewski'),('Novák','novak'),
 ('Yamamoto',NULL),('Tanaka',NULL),('Suzuki',NULL),('Watanabe',NULL),('Wang',NULL),
 ('Zhang',NULL),('Chen',NULL),('Liu',NULL),('Singh',NULL),('Sharma',NULL),('Gupta',NULL),
 ('Okafor',NULL),('Mensah',NULL),('Haddad',NULL),('Nasser',NULL),('Yıldız','yildiz'),
 ('Yılmaz','yilmaz'),('Kaya',NULL),('Demir',NULL);
-- Companies: a distinctive first word x a kind (~1,100), each with its own domain.
CREATE TEMPORARY TABLE hd_cword (n INT AUTO_INCREMENT PRIMARY KEY, w VARCHAR(40), slug VARCHAR(40));
INSERT INTO hd_cword (w, slug) VALUES
 ('Acme',NULL),('Northwind',NULL),('Contoso',NULL),('Fabrikam',NULL),('Globex',NULL),
 ('Initech',NULL),('Umbrella',NULL),('Stark',NULL),('Wayne',NULL),('Tyrell',NULL),
 ('Cyberdyne',NULL),('Soylent',NULL),('Hooli',NULL),('Vandelay',NULL),('Wonka',NULL),
 ('Gringotts',NULL),('Oscorp',NULL),('Aperture',NULL),('Blackmesa',NULL),('Massive',NULL),
 ('Bluebird',NULL),('Redwood',NULL),('Silverline',NULL),('Greenfield',NULL),('Ironbridge',NULL),
 ('Lakeside',NULL),('Highland',NULL),('Riverstone',NULL),('Sunrise',NULL),('Starlight',NULL),
 ('Evergreen',NULL),('Pinecrest',NULL),('Oakridge',NULL),('Maplewood',NULL),('Brightwater',NULL),
 ('Clearview',NULL),('Crescent',NULL),('Summit',NULL),('Pioneer',NULL),('Frontier',NULL),
 ('Harbor',NULL),('Beacon',NULL),('Keystone',NULL),('Cornerstone',NULL),('Benchmark',NULL),
 ('Vertex',NULL),('Quantum',NULL),('Nimbus',NULL),('Zephyr',NULL),('Orion',NULL),('Atlas',NULL),
 ('Helios',NULL),('Polaris',NULL),('Meridian',NULL),('Horizon',NULL),('Catalyst',NULL),
 ('Momentum',NULL),('Paragon',NULL),('Pinnacle',NULL),('Sterling',NULL),('Granite',NULL),
 ('Cobalt',NULL),('Indigo',NULL),('Saffron',NULL),('Juniper',NULL),('Willow',NULL),
 ('Falcon',NULL),('Osprey',NULL),('Kestrel',NULL),('Lynx',NULL),('Otter',NULL),('Bison',NULL),
 ('Alpenblick',NULL),('Bergmann',NULL),('Nordlicht',NULL),('Rheintal',NULL),('Elbe',NULL),
 ('Sonnenschein',NULL),('Müller','mueller'),('Bäckerei','baeckerei'),('Königs','koenigs'),
 ('Lumière','lumiere'),('Fenêtre','fenetre'),('Soleil',NULL),('Montagne',NULL),('Azul',NULL),
 ('Sierra',NULL),('Mariposa',NULL),('Bellavista',NULL),('Dolce',NULL),('Fjord',NULL),
 ('Nordic',NULL),('Tulip',NULL),('Sakura',NULL),('Kaizen',NULL),('Lotus',NULL),('Baobab',NULL);
CREATE TEMPORARY TABLE hd_ckind (n INT AUTO_INCREMENT PRIMARY KEY, w VARCHAR(40), tld VARCHAR(10));
INSERT INTO hd_ckind (w, tld) VALUES
 ('Logistics','com'),('Consulting','com'),('Software','io'),('GmbH','de'),('Ltd','co.uk'),
 ('Inc.','com'),('& Co. KG','de'),('Group','com'),('Systems','net'),('Partners','com'),
 ('Holdings','com'),('Solutions','eu'),('S.A.','es'),('SARL','fr'),('S.p.A.','it');
-- Mail providers for the rest; phones: country code, a national prefix, digits after it.
CREATE TEMPORARY TABLE hd_mail (n INT AUTO_INCREMENT PRIMARY KEY, d VARCHAR(40));
INSERT INTO hd_mail (d) VALUES ('gmail.com'),('outlook.com'),('yahoo.com'),('hotmail.com'),
 ('icloud.com'),('gmx.de'),('web.de'),('t-online.de'),('orange.fr'),('free.fr'),('libero.it'),
 ('proton.me'),('aol.com'),('btinternet.com'),('telefonica.net');
CREATE TEMPORARY TABLE hd_country (n INT AUTO_INCREMENT PRIMARY KEY, prefix VARCHAR(8), k INT);
INSERT INTO hd_country (prefix, k) VALUES
 ('1212', 7), ('1415', 7), ('1312', 7), ('1617', 7), ('44207', 7), ('447700', 6),
 ('4930', 8), ('4989', 7), ('49151', 8), ('33', 9), ('346', 8), ('393', 9), ('316', 8),
 ('467', 8), ('614', 8), ('8190', 8);
SELECT COUNT(*) INTO @nf FROM hd_first;  SELECT COUNT(*) INTO @nl FROM hd_last;
SELECT COUNT(*) INTO @ncw FROM hd_cword; SELECT COUNT(*) INTO @nck FROM hd_ckind;
SELECT COUNT(*) INTO @nm FROM hd_mail;   SELECT COUNT(*) INTO @nc FROM hd_country;

-- Contacts: 60% with a company, 90% with an email (two in three of the company's people at
-- its domain), 95% with a phone, 1 in 20 with a middle initial; created over three years.
SET @sql = CONCAT(
 'INSERT INTO contacts (tenant_id, name, email, phone, company, notes, custom_fields,',
 ' created_at, updated_at)',
 ' SELECT @t,',
 ' CONCAT(f.w, IF(s.seq % 20 = 7, CONCAT('' '', CHAR(65 + s.seq % 26 USING utf8mb4), ''.''), ''''), '' '', l.w),',
 ' IF(s.seq % 10 = 3, NULL, CONCAT(',
 '   ELT(1 + CRC32(CONCAT(''e'', s.seq)) % 4,',
 '       CONCAT(COALESCE(f.slug, LOWER(f.w)), ''.'', COALESCE(l.slug, LOWER(l.w))),',
 '       CONCAT(LEFT(COALESCE(f.slug, LOWER(f.w)), 1), COALESCE(l.slug, LOWER(l.w))),',
 '       CONCAT(COALESCE(f.slug, LOWER(f.w)), COALESCE(l.slug, LOWER(l.w))),',
 '       CONCAT(COALESCE(f.slug, LOWER(f.w)), ''.'', COALESCE(l.slug, LOWER(l.w)), s.seq % 100)),',
 '   ''@'', IF(s.seq % 5 < 3 AND s.seq % 3 <> 0,',
 '            CONCAT(COALESCE(cw.slug, LOWER(cw.w)), ''.'', ck.tld), m.d))),',
 ' IF(s.seq % 20 = 11, NULL, CONCAT(''+'', c.prefix,',
 '   LPAD(CRC32(CONCAT(''p'', s.seq)) % POW(10, c.k), c.k, ''0''))),',
 ' IF(s.seq % 5 < 3, CONCAT(cw.w, '' '', ck.w), NULL),',
 ' IF(s.seq % 10 = 5, CONCAT(''Prefers email. Asked about invoice '', 1000 + s.seq % 9000, ''.''), NULL),',
 ' IF(s.seq % 4 = 0, CONCAT(''{"crm_id":"CRM-'', LPAD(s.seq, 6, ''0''), ''","tier":"'',',
 '   ELT(1 + s.seq % 3, ''gold'', ''silver'', ''bronze''), ''"}''), ''{}''),',
 ' @c := UTC_TIMESTAMP() - INTERVAL 94608000 SECOND + INTERVAL FLOOR((s.seq - 1) * 94000000 / @contacts) SECOND,',
 ' LEAST(UTC_TIMESTAMP(), @c + INTERVAL CRC32(CONCAT(''u'', s.seq)) % 31536000 SECOND)',
 ' FROM seq_1_to_', @contacts, ' s',
 ' JOIN hd_first f ON f.n = 1 + CRC32(CONCAT(''f'', s.seq)) % @nf',
 ' JOIN hd_last l ON l.n = 1 + CRC32(CONCAT(''l'', s.seq)) % @nl',
 ' JOIN hd_cword cw ON cw.n = 1 + CRC32(CONCAT(''c'', s.seq)) % @ncw',
 ' JOIN hd_ckind ck ON ck.n = 1 + CRC32(CONCAT(''k'', s.seq)) % @nck',
 ' JOIN hd_mail m ON m.n = 1 + CRC32(CONCAT(''m'', s.seq)) % @nm',
 ' JOIN hd_country c ON c.n = 1 + CRC32(CONCAT(''n'', s.seq)) % @nc');
PREPARE seed FROM @sql;
EXECUTE seed;
DEALLOCATE PREPARE seed;

-- Their search terms, as cc_search_terms_add makes them (shared/cc_search.c): name and
-- company: the whole text normalised (ASCII letters lowercased; the seeded texts have
-- single spaces and no other upper case), each part between spaces ("o'brien", "s.a.",
-- "&") and each word (split at the ASCII characters other than letters and digits:
-- "o", "brien"); email: the whole address, its local part, its domain; phone: its digits
-- and their suffixes of 3 digits or more.  No duplicates in a contact (compared as
-- bytes); every seeded term is under 64 bytes.
CREATE TEMPORARY TABLE hd_terms (
    contact_id BIGINT UNSIGNED NOT NULL,
    term VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (contact_id, term)) ENGINE=InnoDB;
INSERT IGNORE INTO hd_terms SELECT id, LOWER(name) FROM contacts WHERE tenant_id = @t;
INSERT IGNORE INTO hd_terms SELECT id, LOWER(company) FROM contacts
    WHERE tenant_id = @t AND company IS NOT NULL;
INSERT IGNORE INTO hd_terms SELECT c.id, w.w FROM contacts c,
    JSON_TABLE(CONCAT('["', REPLACE(CONCAT_WS(' ', @x := LOWER(CONCAT_WS(' ', c.name, c.company)),
        REGEXP_REPLACE(@x, '[\\x{0}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{60}\\x{7b}-\\x{7f}]', ' ')),
                                    ' ', '","'), '"]'),
               '$[*]' COLUMNS (w VARCHAR(64) PATH '$')) w
    WHERE c.tenant_id = @t AND w.w <> '';
INSERT IGNORE INTO hd_terms SELECT id, LOWER(email) FROM contacts
    WHERE tenant_id = @t AND email IS NOT NULL;
INSERT IGNORE INTO hd_terms SELECT id, LOWER(SUBSTRING_INDEX(email, '@', 1)) FROM contacts
    WHERE tenant_id = @t AND email IS NOT NULL;
INSERT IGNORE INTO hd_terms SELECT id, LOWER(SUBSTRING_INDEX(email, '@', -1)) FROM contacts
    WHERE tenant_id = @t AND email IS NOT NULL;
INSERT IGNORE INTO hd_terms SELECT c.id, SUBSTRING(c.phone, 2 + k.seq) FROM contacts c
    JOIN seq_0_to_15 k ON k.seq <= CHAR_LENGTH(c.phone) - 4
    WHERE c.tenant_id = @t AND c.phone IS NOT NULL;
-- Into the empty tables without the checks the rows meet by construction: MariaDB's
-- bulk insert (MDEV-24621), which skips the undo log row by row.
SET SESSION unique_checks = 0, foreign_key_checks = 0;
INSERT INTO contact_terms (tenant_id, contact_id, term) SELECT @t, contact_id, term FROM hd_terms;
SET SESSION unique_checks = 1, foreign_key_checks = 1;

-- 20 tags; a third of the contacts carry one, a tenth a second one.
INSERT INTO tags (tenant_id, name, color)
    SELECT @t, ELT(seq, 'vip', 'churn-risk', 'reseller', 'partner', 'newsletter', 'enterprise',
                   'smb', 'trial', 'billing-issue', 'escalated', 'german', 'french', 'spanish',
                   'priority-support', 'beta', 'do-not-call', 'press', 'investor', 'student',
                   'nonprofit'),
           ELT(1 + seq % 5, '#e53935', '#1e88e5', '#43a047', '#fb8c00', '#808080')
    FROM seq_1_to_20;
CREATE TEMPORARY TABLE hd_tags AS
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM tags WHERE tenant_id = @t;
ALTER TABLE hd_tags ADD PRIMARY KEY (n);
CREATE TEMPORARY TABLE hd_contacts AS
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM contacts WHERE tenant_id = @t;
ALTER TABLE hd_contacts ADD PRIMARY KEY (n);
SELECT COUNT(*) INTO @ncontacts FROM hd_contacts;
INSERT IGNORE INTO contact_tags (tenant_id, contact_id, tag_id)
    SELECT @t, c.id, g.id FROM hd_contacts c
    JOIN hd_tags g ON g.n = 1 + CRC32(CONCAT('g', c.n)) % 20 WHERE c.n % 3 = 0
    UNION ALL
    SELECT @t, c.id, g.id FROM hd_contacts c
    JOIN hd_tags g ON g.n = 1 + CRC32(CONCAT('h', c.n)) % 20 WHERE c.n % 10 = 0;

-- SLA policies by priority (24/7), then the tickets: a year of them, numbered in creation
-- order; the last two weeks' mostly new, open or waiting, older ones mostly solved or
-- closed (~5,600 open, ~1,500 new, ~2,700 pending or on hold in all); priority low 20%,
-- normal 50%, high 22%, urgent 8%; 60 agents (none for 1 in 10, and for half of the new
-- ones); a contact for 96%, skewed (the busiest contacts have ~70 tickets).
INSERT INTO slas (tenant_id, name, priority, first_response_minutes, resolution_minutes) VALUES
    (@t, 'Low', 'low', 480, 4320), (@t, 'Normal', 'normal', 240, 1440),
    (@t, 'High', 'high', 60, 480), (@t, 'Urgent', 'urgent', 15, 240);
CREATE TEMPORARY TABLE hd_agents AS
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM users
    WHERE tenant_id = @t AND email LIKE 'user%' ORDER BY id LIMIT 60;
ALTER TABLE hd_agents ADD PRIMARY KEY (n);
CREATE TEMPORARY TABLE hd_subject (n INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(120));
INSERT INTO hd_subject (s) VALUES
 ('Cannot log in to the portal'),('Invoice amount is wrong'),('Refund request'),
 ('Call quality drops during calls'),('Password reset link expired'),('Order has not arrived'),
 ('Question about my contract'),('Change of billing address'),('Upgrade to the premium plan'),
 ('Cancel my subscription'),('Voicemail not delivered by email'),('Number porting request'),
 ('Agent was rude on the phone'),('Feature request: dark mode'),('API returns 500 errors'),
 ('Two-factor authentication problem'),('Duplicate charge on credit card'),
 ('Export to CSV is empty'),('Callback requested'),('Delivery to the wrong address'),
 ('Product arrived damaged'),('How do I add a user?'),('SIP phone does not register'),
 ('Queue music too loud'),('Missed call from your number'),('GDPR data request'),
 ('Rückfrage zur Rechnung'),('Lieferung verspätet'),('Problème de facturation'),
 ('Consulta sobre mi pedido'),('Richiesta di rimborso'),('Website chat not loading'),
 ('Wrong VAT on invoice'),('Account locked after failed logins'),('Request for a quote'),
 ('Contract renewal'),('SMS not received'),('Recording missing for a call'),
 ('Change of contact person'),('Complaint about waiting time');
SELECT COUNT(*) INTO @nsubj FROM hd_subject;
SET @start = UTC_TIMESTAMP() - INTERVAL 365 DAY;
-- Columns in the order the user variables are set (left to right, as cdr_seed.sql
-- relies on): @st the status, @cr created, @frd/@rsd the due times, @fr the first
-- response (a fifth of them after its due time), @rs the resolution (a sixth late), @up
-- the last update.  sla_breached: what the breach job would have marked (a running clock
-- that ran out, or a response or resolution after its due time).  STRAIGHT_JOIN and
-- ORDER BY: ids in number order, as the API's creates give them.
SET @sql = CONCAT(
 'INSERT INTO tickets (tenant_id, number, subject, status, priority, channel, contact_id,',
 ' assignee_id, sla_id, created_at, first_response_due_at, resolution_due_at,',
 ' first_responded_at, resolved_at, updated_at, paused_at, sla_breached)',
 ' SELECT STRAIGHT_JOIN @t, s.seq,',
 ' IF(s.seq % 3 = 0, CONCAT(j.s, '' (order '', 100000 + CRC32(CONCAT(''o'', s.seq)) % 900000, '')''), j.s),',
 ' @st := CASE WHEN (@age := (@tickets - s.seq) * 365 / @tickets) < 14',
 '   THEN ELT(1 + ((@r := CRC32(CONCAT(''s'', s.seq)) % 100) >= 20) + (@r >= 55) + (@r >= 70) + (@r >= 75),',
 '            ''new'', ''open'', ''pending'', ''on_hold'', ''solved'')',
 '   WHEN @age < 60',
 '   THEN ELT(1 + ((@r := CRC32(CONCAT(''s'', s.seq)) % 100) >= 5) + (@r >= 8) + (@r >= 10) + (@r >= 20),',
 '            ''open'', ''pending'', ''on_hold'', ''solved'', ''closed'')',
 '   ELSE ELT(1 + ((@r := CRC32(CONCAT(''s'', s.seq)) % 100) >= 1) + (@r >= 3), ''open'', ''solved'', ''closed'')',
 '   END,',
 ' p.priority,',
 ' ELT(1 + ((@r := CRC32(CONCAT(''h'', s.seq)) % 100) >= 35) + (@r >= 70) + (@r >= 90),',
 '     ''phone'', ''email'', ''chat'', ''web''),',
 ' IF(s.seq % 25 = 0, NULL, c.id),',
 ' IF(s.seq % 10 = 0 OR (@st = ''new'' AND s.seq % 2 = 0), NULL, a.id),',
 ' p.id,',
 ' @cr := @start + INTERVAL FLOOR((s.seq - 1) * 31536000 / @tickets) SECOND,',
 ' @frd := @cr + INTERVAL p.first_response_minutes MINUTE,',
 ' @rsd := @cr + INTERVAL p.resolution_minutes MINUTE,',
 ' @fr := IF(@st = ''new'', NULL, LEAST(UTC_TIMESTAMP(), @cr + INTERVAL',
 '   FLOOR(p.first_response_minutes * (20 + CRC32(CONCAT(''q'', s.seq)) % 100) / 100) MINUTE)),',
 ' @rs := IF(@st IN (''solved'', ''closed''), LEAST(UTC_TIMESTAMP(), GREATEST(@fr, @cr + INTERVAL',
 '   FLOOR(p.resolution_minutes * (10 + CRC32(CONCAT(''v'', s.seq)) % 110) / 100) MINUTE)), NULL),',
 ' @up := LEAST(UTC_TIMESTAMP(), GREATEST(COALESCE(@rs, @fr, @cr),',
 '   @cr + INTERVAL (5 + CRC32(CONCAT(''w'', s.seq)) % 14400) MINUTE)),',
 ' IF(@st IN (''pending'', ''on_hold''), @up, NULL),',
 ' (@fr IS NULL AND @st NOT IN (''solved'', ''closed'') AND @frd < UTC_TIMESTAMP())',
 '   OR (@st IN (''new'', ''open'') AND @rsd < UTC_TIMESTAMP())',
 '   OR COALESCE(@fr > @frd, 0) OR COALESCE(@rs > @rsd, 0)',
 ' FROM seq_1_to_', @tickets, ' s',
 ' JOIN slas p ON p.tenant_id = @t AND p.priority = ELT(1 + (CRC32(CONCAT(''r'', s.seq)) % 100 >= 20)',
 '     + (CRC32(CONCAT(''r'', s.seq)) % 100 >= 70) + (CRC32(CONCAT(''r'', s.seq)) % 100 >= 92),',
 '     ''low'', ''normal'', ''high'', ''urgent'')',
 ' JOIN hd_subject j ON j.n = 1 + CRC32(CONCAT(''j'', s.seq)) % @nsubj',
 ' JOIN hd_contacts c ON c.n = 1 + FLOOR(@ncontacts * POW((CRC32(CONCAT(''c'', s.seq)) % 1000003) / 1000003, 1.5))',
 ' JOIN hd_agents a ON a.n = 1 + CRC32(CONCAT(''a'', s.seq)) % 60',
 ' ORDER BY s.seq');
SET SESSION unique_checks = 0, foreign_key_checks = 0;
PREPARE seed FROM @sql;
EXECUTE seed;
DEALLOCATE PREPARE seed;
SET SESSION unique_checks = 1, foreign_key_checks = 1;
INSERT INTO ticket_counters (tenant_id, last_number)
    SELECT @t, MAX(number) FROM tickets WHERE tenant_id = @t
    ON DUPLICATE KEY UPDATE last_number = VALUES(last_number);
-- Tags on 40% of the tickets, a second one on 10%: chosen into a table of their own first,
-- since the links' triggers write tickets.tag_names (sql/025) and a statement inserting
-- links may not read tickets (ER 1442).
CREATE TEMPORARY TABLE hd_ticket_tags AS
    SELECT @t AS tenant_id, k.id AS ticket_id, g.id AS tag_id FROM tickets k
    JOIN hd_tags g ON g.n = 1 + CRC32(CONCAT('g', k.number)) % 20
    WHERE k.tenant_id = @t AND k.number % 5 < 2
    UNION ALL
    SELECT @t, k.id, g.id FROM tickets k
    JOIN hd_tags g ON g.n = 1 + CRC32(CONCAT('i', k.number)) % 20
    WHERE k.tenant_id = @t AND k.number % 10 = 0;
INSERT IGNORE INTO ticket_tags (tenant_id, ticket_id, tag_id)
    SELECT tenant_id, ticket_id, tag_id FROM hd_ticket_tags;
-- The subjects' search terms (q=, sql/030): computed in SQL once per subject.
CALL cc_ticket_terms_fill(@t);
ANALYZE TABLE contacts, contact_terms, contact_tags, tags, tickets, ticket_tags, ticket_terms;

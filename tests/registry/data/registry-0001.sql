PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version VALUES('0001');
CREATE TABLE ledger (
	seq INTEGER NOT NULL, 
	kind VARCHAR(60) NOT NULL, 
	subject VARCHAR(120) NOT NULL, 
	actor VARCHAR(120) NOT NULL, 
	at VARCHAR(40) NOT NULL, 
	payload TEXT NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);
INSERT INTO ledger VALUES(1,'user.created','users/1','admin','2026-12-02T06:15:36.010201Z','{"id":1,"row":{"email":null,"id":1,"name":"admin","organisation_id":null,"role":"admin"},"table":"users"}','0000000000000000000000000000000000000000000000000000000000000000','4a18c51e62388ae4214ec711a66679333888fa505353ef7a95f262bb79db8aed');
INSERT INTO ledger VALUES(2,'organisation.created','organisations/1','admin','2026-12-02T06:15:36.049658Z','{"id":1,"row":{"country":null,"id":1,"kind":"developer","name":"MedAI"},"table":"organisations"}','4a18c51e62388ae4214ec711a66679333888fa505353ef7a95f262bb79db8aed','b39fd13cb36b620b6f1a5135f06e502de94bf624130fc7ad6a9f41ec34d61886');
INSERT INTO ledger VALUES(3,'organisation.created','organisations/2','admin','2026-12-02T06:15:36.069484Z','{"id":2,"row":{"country":null,"id":2,"kind":"auditor","name":"AuditCo"},"table":"organisations"}','b39fd13cb36b620b6f1a5135f06e502de94bf624130fc7ad6a9f41ec34d61886','a493e25d41fd833a6a0ddc196a1c55a021f84bc4fc33fd56afcf35fe00a0e01a');
INSERT INTO ledger VALUES(4,'user.created','users/2','admin','2026-12-02T06:15:36.093747Z','{"id":2,"row":{"email":null,"id":2,"name":"dev","organisation_id":1,"role":"developer"},"table":"users"}','a493e25d41fd833a6a0ddc196a1c55a021f84bc4fc33fd56afcf35fe00a0e01a','01f750b88c6353a4e16ad82f8b1928c096dca0eaee7ea90e092a6bb9b2b37be2');
INSERT INTO ledger VALUES(5,'user.created','users/3','admin','2026-12-02T06:15:36.117721Z','{"id":3,"row":{"email":null,"id":3,"name":"aud","organisation_id":2,"role":"auditor"},"table":"users"}','01f750b88c6353a4e16ad82f8b1928c096dca0eaee7ea90e092a6bb9b2b37be2','84f0dce58e0e17943af991d23bb76acb9d94d4eafbb24e614ee643309239a70b');
INSERT INTO ledger VALUES(6,'user.created','users/4','admin','2026-12-02T06:15:36.145594Z','{"id":4,"row":{"email":null,"id":4,"name":"rev","organisation_id":2,"role":"reviewer"},"table":"users"}','84f0dce58e0e17943af991d23bb76acb9d94d4eafbb24e614ee643309239a70b','5a61cb81c990892ed4dbef0d8f1c68e569e92e8411c45ad06936daae18b2dde8');
INSERT INTO ledger VALUES(7,'system.created','systems/1','dev','2026-12-02T06:15:36.176331Z','{"id":1,"row":{"clinical_setting":"emergency department","created_by":2,"developer_id":1,"id":1,"intended_use":"suggest ED triage levels","intended_users":"triage nurses","modalities":["text"],"model_provider":null,"name":"TriageAid","status":"draft"},"table":"systems"}','5a61cb81c990892ed4dbef0d8f1c68e569e92e8411c45ad06936daae18b2dde8','250eb9581fbaf32c649427c5e84f71df309d4d6c57f588db747d6f6953d98f07');
INSERT INTO ledger VALUES(8,'version.created','versions/1','dev','2026-12-02T06:15:36.215395Z','{"id":1,"row":{"documentation":null,"id":1,"model_id":"openai:triage@http://x","system_id":1,"version":"1.0","weights_or_api_version":null},"table":"versions"}','250eb9581fbaf32c649427c5e84f71df309d4d6c57f588db747d6f6953d98f07','335719da77bbf7c237adbe5ba626846414ad5b804a0106aed3503fd3288d5009');
INSERT INTO ledger VALUES(9,'deployment.created','deployments/1','dev','2026-12-02T06:15:36.247765Z','{"id":1,"row":{"id":1,"queries_per_month":0,"site":"City Hospital","start_date":null,"users_per_month":40,"version_id":1},"table":"deployments"}','335719da77bbf7c237adbe5ba626846414ad5b804a0106aed3503fd3288d5009','baeedc261de41055a237c102cdca06679e88a60fa9818d64426b1c75e751b214');
INSERT INTO ledger VALUES(10,'assessment.recorded','assessments/1','dev','2026-12-02T06:15:36.410088Z','{"id":1,"row":{"answers":{"acc-logging":"full","acc-named-owner":"named","acc-redress":"general","acc-regulatory-status":"not-applicable","acc-vendor-contract":"full","ap-children":"not-used","ap-languages":"single-language","ap-low-resource":"not-deployed","ap-users-per-month":"100-10k","ap-vulnerable-groups":"evaluated","aut-autonomous-at-scale":"none","aut-autonomy-level":"information","aut-human-override":"always","aut-informed-consent":"informed-only","aut-opt-out":"equivalent","dp-dpia-status":"completed","dp-lawful-basis":"documented","dp-minimisation":"minimised","dp-reidentification":"not-trained-on-phi","dp-retention-erasure":"defined","dp-security":"tested","dp-third-party-transfer":"none","env-energy":"estimated","env-hardware":"partly","env-water":"provider-reported","eq-access":"equal","eq-bias-mitigation":"informal","eq-counterfactual-testing":"tested-ok","eq-race-based-medicine":"checked-clean","eq-representative-data":"representative","eq-subgroup-evaluation":"disaggregated","hr-access-to-care":"no-effect","hr-manipulation":"assessed-low","hr-non-discrimination":"done","hr-surveillance":"care-only","sus-change-control":"controlled","sus-continuous-evaluation":"internal","sus-stakeholder-involvement":"throughout","sus-withdrawal-plan":"fallback-only","tr-ai-labelling":"always","tr-documentation":"complete","tr-explainability":"verifiable","tr-public-information":"on-request","tr-training-data":"summary","wf-automation-bias":"measured","wf-deskilling":"low-risk","wf-job-impact":"consulted","wf-training":"mandatory","ws-clinical-validation":"local-retrospective","ws-confabulation-controls":"untested-controls","ws-error-consequence":"minor","ws-incident-suspension":"documented","ws-monitoring":"periodic","ws-use-area":"administrative"},"assessor_id":2,"at":"2026-12-02T06:15:36","id":1,"questionnaire_version":"1.0","reasons":["[wellbeing_safety] Safeguards against fabricated output exist but their effect is unknown.","[transparency] Training data are described only in general terms, so gaps for this population cannot be judged."],"score":0.1067,"system_id":1,"tier":"I"},"table":"assessments"}','baeedc261de41055a237c102cdca06679e88a60fa9818d64426b1c75e751b214','6d79150c67d962fa8b5a59e54090748659b0b76d668ed6f771981f896fa6bbc1');
INSERT INTO ledger VALUES(11,'audit.recorded','audits/1','aud','2026-12-02T06:15:36.418275Z','{"id":1,"row":{"at":"2026-12-02T06:15:36","auditor_id":3,"findings":{},"id":1,"independence":".","independent":1,"model":"m","report_path":null,"report_sha256":null,"run_id":"r1","suite":"starter","version_id":1},"table":"audits"}','6d79150c67d962fa8b5a59e54090748659b0b76d668ed6f771981f896fa6bbc1','069e332c4a933f581696a011476e94e71d0d7eb4513eb953398fe16d5978cb18');
INSERT INTO ledger VALUES(12,'incident.reported','incidents/1','rev','2026-12-02T06:15:36.445861Z','{"id":1,"row":{"at":"2026-12-02T06:15:36","deployment_id":1,"description":"slow","id":1,"reporter_id":4,"severity":"low"},"table":"incidents"}','069e332c4a933f581696a011476e94e71d0d7eb4513eb953398fe16d5978cb18','3b081903175df47d93a905a027ab25d20b965771ee72319e1930c12fabb3cfff');
INSERT INTO ledger VALUES(13,'feedback.received','feedback/1','public','2026-12-02T06:15:36.472499Z','{"id":1,"row":{"at":"2026-12-02T06:15:36","author_id":null,"id":1,"stakeholder":"patient","system_id":1,"text":"ok"},"table":"feedback"}','3b081903175df47d93a905a027ab25d20b965771ee72319e1930c12fabb3cfff','f75ff57b3638ca08a2a7f947875aa494aa257dd3ae599a4ad1d544ea256a6498');
INSERT INTO ledger VALUES(14,'workflow.submit','systems/1','dev','2026-12-02T06:15:36.494399Z','{"from":"draft","id":1,"note":null,"row":{"clinical_setting":"emergency department","created_by":2,"developer_id":1,"id":1,"intended_use":"suggest ED triage levels","intended_users":"triage nurses","modalities":["text"],"model_provider":null,"name":"TriageAid","status":"submitted"},"table":"systems","to":"submitted"}','f75ff57b3638ca08a2a7f947875aa494aa257dd3ae599a4ad1d544ea256a6498','8ea9a5451c502a16d9b4faea0cb43f2f194d077c8d641062cefeb205bec3e246');
INSERT INTO ledger VALUES(15,'workflow.review','systems/1','rev','2026-12-02T06:15:36.519995Z','{"from":"submitted","id":1,"note":null,"row":{"clinical_setting":"emergency department","created_by":2,"developer_id":1,"id":1,"intended_use":"suggest ED triage levels","intended_users":"triage nurses","modalities":["text"],"model_provider":null,"name":"TriageAid","status":"under_review"},"table":"systems","to":"under_review"}','8ea9a5451c502a16d9b4faea0cb43f2f194d077c8d641062cefeb205bec3e246','2467793494b27d2b3e65c2d561bcd14c0bf11b54e2d89733e745cb5936d9e1e5');
INSERT INTO ledger VALUES(16,'workflow.approve','systems/1','rev','2026-12-02T06:15:36.556733Z','{"from":"under_review","id":1,"note":null,"row":{"clinical_setting":"emergency department","created_by":2,"developer_id":1,"id":1,"intended_use":"suggest ED triage levels","intended_users":"triage nurses","modalities":["text"],"model_provider":null,"name":"TriageAid","status":"approved"},"table":"systems","to":"approved"}','2467793494b27d2b3e65c2d561bcd14c0bf11b54e2d89733e745cb5936d9e1e5','15a940dca9557e845883fcce4c4a0231c090a00fca621ab81450e4b6dcb8da3c');
CREATE TABLE organisations (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	kind VARCHAR(40) NOT NULL, 
	country VARCHAR(80), 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO organisations VALUES(1,'MedAI','developer',NULL);
INSERT INTO organisations VALUES(2,'AuditCo','auditor',NULL);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	name VARCHAR(120) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	organisation_id INTEGER, 
	email VARCHAR(200), 
	PRIMARY KEY (id), 
	FOREIGN KEY(organisation_id) REFERENCES organisations (id), 
	UNIQUE (name)
);
INSERT INTO users VALUES(1,'admin','admin',NULL,NULL);
INSERT INTO users VALUES(2,'dev','developer',1,NULL);
INSERT INTO users VALUES(3,'aud','auditor',2,NULL);
INSERT INTO users VALUES(4,'rev','reviewer',2,NULL);
CREATE TABLE systems (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	developer_id INTEGER NOT NULL, 
	intended_use TEXT NOT NULL, 
	clinical_setting VARCHAR(200) NOT NULL, 
	intended_users VARCHAR(200) NOT NULL, 
	modalities JSON NOT NULL, 
	model_provider VARCHAR(200), 
	status VARCHAR(20) NOT NULL, 
	created_by INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(created_by) REFERENCES users (id), 
	FOREIGN KEY(developer_id) REFERENCES organisations (id), 
	UNIQUE (name)
);
INSERT INTO systems VALUES(1,'TriageAid',1,'suggest ED triage levels','emergency department','triage nurses','["text"]',NULL,'approved',2);
CREATE TABLE assessments (
	id INTEGER NOT NULL, 
	system_id INTEGER NOT NULL, 
	assessor_id INTEGER NOT NULL, 
	questionnaire_version VARCHAR(40) NOT NULL, 
	answers JSON NOT NULL, 
	score FLOAT NOT NULL, 
	tier VARCHAR(4) NOT NULL, 
	reasons JSON NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(assessor_id) REFERENCES users (id), 
	FOREIGN KEY(system_id) REFERENCES systems (id)
);
INSERT INTO assessments VALUES(1,1,2,'1.0','{"aut-autonomy-level": "information", "aut-human-override": "always", "aut-autonomous-at-scale": "none", "aut-informed-consent": "informed-only", "aut-opt-out": "equivalent", "ws-use-area": "administrative", "ws-error-consequence": "minor", "ws-clinical-validation": "local-retrospective", "ws-confabulation-controls": "untested-controls", "ws-monitoring": "periodic", "ws-incident-suspension": "documented", "tr-ai-labelling": "always", "tr-documentation": "complete", "tr-training-data": "summary", "tr-explainability": "verifiable", "tr-public-information": "on-request", "acc-named-owner": "named", "acc-redress": "general", "acc-logging": "full", "acc-regulatory-status": "not-applicable", "acc-vendor-contract": "full", "eq-subgroup-evaluation": "disaggregated", "eq-counterfactual-testing": "tested-ok", "eq-race-based-medicine": "checked-clean", "eq-representative-data": "representative", "eq-access": "equal", "eq-bias-mitigation": "informal", "sus-continuous-evaluation": "internal", "sus-change-control": "controlled", "sus-withdrawal-plan": "fallback-only", "sus-stakeholder-involvement": "throughout", "dp-lawful-basis": "documented", "dp-minimisation": "minimised", "dp-third-party-transfer": "none", "dp-retention-erasure": "defined", "dp-reidentification": "not-trained-on-phi", "dp-security": "tested", "dp-dpia-status": "completed", "hr-access-to-care": "no-effect", "hr-non-discrimination": "done", "hr-manipulation": "assessed-low", "hr-surveillance": "care-only", "ap-users-per-month": "100-10k", "ap-vulnerable-groups": "evaluated", "ap-children": "not-used", "ap-languages": "single-language", "ap-low-resource": "not-deployed", "wf-deskilling": "low-risk", "wf-automation-bias": "measured", "wf-training": "mandatory", "wf-job-impact": "consulted", "env-energy": "estimated", "env-water": "provider-reported", "env-hardware": "partly"}',0.10670000000000000317,'I','["[wellbeing_safety] Safeguards against fabricated output exist but their effect is unknown.", "[transparency] Training data are described only in general terms, so gaps for this population cannot be judged."]','2026-12-02 06:15:36.000000');
CREATE TABLE feedback (
	id INTEGER NOT NULL, 
	system_id INTEGER NOT NULL, 
	author_id INTEGER, 
	stakeholder VARCHAR(40) NOT NULL, 
	text TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(author_id) REFERENCES users (id), 
	FOREIGN KEY(system_id) REFERENCES systems (id)
);
INSERT INTO feedback VALUES(1,1,NULL,'patient','ok','2026-12-02 06:15:36.000000');
CREATE TABLE versions (
	id INTEGER NOT NULL, 
	system_id INTEGER NOT NULL, 
	version VARCHAR(80) NOT NULL, 
	model_id VARCHAR(300) NOT NULL, 
	weights_or_api_version VARCHAR(300), 
	documentation TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(system_id) REFERENCES systems (id)
);
INSERT INTO versions VALUES(1,1,'1.0','openai:triage@http://x',NULL,NULL);
CREATE TABLE audits (
	id INTEGER NOT NULL, 
	version_id INTEGER NOT NULL, 
	run_id VARCHAR(80) NOT NULL, 
	suite VARCHAR(120) NOT NULL, 
	model VARCHAR(300) NOT NULL, 
	findings JSON NOT NULL, 
	report_path TEXT, 
	report_sha256 VARCHAR(64), 
	auditor_id INTEGER NOT NULL, 
	independence TEXT, 
	independent INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(auditor_id) REFERENCES users (id), 
	FOREIGN KEY(version_id) REFERENCES versions (id)
);
INSERT INTO audits VALUES(1,1,'r1','starter','m','{}',NULL,NULL,3,'.',1,'2026-12-02 06:15:36.000000');
CREATE TABLE deployments (
	id INTEGER NOT NULL, 
	version_id INTEGER NOT NULL, 
	site VARCHAR(200) NOT NULL, 
	start_date DATE, 
	users_per_month INTEGER NOT NULL, 
	queries_per_month INTEGER NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(version_id) REFERENCES versions (id)
);
INSERT INTO deployments VALUES(1,1,'City Hospital',NULL,40,0);
CREATE TABLE incidents (
	id INTEGER NOT NULL, 
	deployment_id INTEGER NOT NULL, 
	reporter_id INTEGER NOT NULL, 
	severity VARCHAR(20) NOT NULL, 
	description TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(deployment_id) REFERENCES deployments (id), 
	FOREIGN KEY(reporter_id) REFERENCES users (id)
);
INSERT INTO incidents VALUES(1,1,4,'low','slow','2026-12-02 06:15:36.000000');
COMMIT;
